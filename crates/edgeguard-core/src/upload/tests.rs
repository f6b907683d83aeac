//! Upload checks: real tiny files of every type, their truncations,
//! mutations and polyglots, file names, multipart bodies and policy errors.

use super::*;
use crate::ErrorCode;
use serde_json::json;

// ---------------------------------------------------------------- fixtures

fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
    out
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &c in data {
        a = (a + u32::from(c)) % 65521;
        b = (b + a) % 65521;
    }
    b << 16 | a
}

/// A valid 1×1 RGBA PNG (IDAT: a zlib stream with one stored block).
pub(super) fn png_1x1() -> Vec<u8> {
    let raw = [0u8, 0xff, 0x00, 0x00, 0xff];
    let mut z = vec![0x78, 0x01, 0x01, 5, 0, 0xfa, 0xff];
    z.extend_from_slice(&raw);
    z.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
    out.extend(chunk(b"IDAT", &z));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A valid 8×8 grey baseline JPEG: one block, DC 0, EOB, one-code Huffman tables.
pub(super) fn jpeg_8x8() -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    out.extend([0xFF, 0xE0, 0x00, 0x10]);
    out.extend(b"JFIF\0");
    out.extend([1, 1, 0, 0, 1, 0, 1, 0, 0]);
    out.extend([0xFF, 0xDB, 0x00, 0x43, 0x00]);
    out.extend([1u8; 64]);
    out.extend([0xFF, 0xC0, 0x00, 0x0B, 8, 0, 8, 0, 8, 1, 1, 0x11, 0]);
    for class in [0x00, 0x10] {
        out.extend([0xFF, 0xC4, 0x00, 0x14, class, 1]);
        out.extend([0u8; 15]);
        out.push(0);
    }
    out.extend([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 0x3F, 0]);
    out.push(0x3F);
    out.extend([0xFF, 0xD9]);
    out
}

const GIF_1X1: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x01\x44\x00\x3b";
const WEBP_1X1: &[u8] = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00";

fn pdf_min() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec()
}

/// A stored (uncompressed) ZIP with these entries.
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut cd = Vec::new();
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32fast::hash(data);
        let mut common = Vec::new();
        common.extend(0u16.to_le_bytes()); // flags
        common.extend(0u16.to_le_bytes()); // stored
        common.extend([0, 0, 0x21, 0]); // time, date
        common.extend(crc.to_le_bytes());
        common.extend((data.len() as u32).to_le_bytes());
        common.extend((data.len() as u32).to_le_bytes());
        common.extend((name.len() as u16).to_le_bytes());
        common.extend(0u16.to_le_bytes()); // extra
        out.extend(b"PK\x03\x04");
        out.extend(20u16.to_le_bytes());
        out.extend(&common);
        out.extend(name.as_bytes());
        out.extend(*data);
        cd.extend(b"PK\x01\x02");
        cd.extend(20u16.to_le_bytes());
        cd.extend(20u16.to_le_bytes());
        cd.extend(&common);
        cd.extend([0u8; 10]); // comment length, disk, internal and external attributes
        cd.extend(offset.to_le_bytes());
        cd.extend(name.as_bytes());
    }
    let cd_start = out.len() as u32;
    out.extend(&cd);
    out.extend(b"PK\x05\x06\0\0\0\0");
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((cd.len() as u32).to_le_bytes());
    out.extend(cd_start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

fn docx() -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", b"<w:document/>"),
    ])
}

fn rules(types: &[&str], max_bytes: usize) -> UploadRules {
    UploadRules::from_value(&json!({"types": types, "max_bytes": max_bytes})).unwrap()
}

fn code(r: Result<Upload, Denial>) -> ErrorCode {
    r.unwrap_err().code
}

fn multipart(boundary: &str, headers: &str, file: &[u8]) -> Vec<u8> {
    let mut b = format!("--{boundary}\r\n{headers}\r\n\r\n").into_bytes();
    b.extend_from_slice(file);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    b
}

/// xorshift64*: deterministic pseudo-random bytes for the garbage loops.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

// ---------------------------------------------------------------- detection

#[test]
fn every_fixture_is_detected_as_its_type_with_its_dimensions() {
    type Case = (Vec<u8>, FileType, Option<(u32, u32)>);
    let cases: Vec<Case> = vec![
        (png_1x1(), FileType::Png, Some((1, 1))),
        (jpeg_8x8(), FileType::Jpeg, Some((8, 8))),
        (GIF_1X1.to_vec(), FileType::Gif, Some((1, 1))),
        (WEBP_1X1.to_vec(), FileType::Webp, Some((1, 1))),
        (pdf_min(), FileType::Pdf, None),
        (docx(), FileType::Docx, None),
        (
            zip(&[("[Content_Types].xml", b"x"), ("xl/workbook.xml", b"x")]),
            FileType::Xlsx,
            None,
        ),
        (
            zip(&[
                ("[Content_Types].xml", b"x"),
                ("ppt/presentation.xml", b"x"),
            ]),
            FileType::Pptx,
            None,
        ),
        ("héllo\tworld\r\n".as_bytes().to_vec(), FileType::Text, None),
    ];
    for (bytes, ty, dims) in cases {
        let d = detect(&bytes).unwrap_or_else(|| panic!("{ty:?} not detected"));
        assert_eq!((d.file_type, d.dimensions), (ty, dims));
    }
}

#[test]
fn truncations_of_every_binary_fixture_are_not_that_type() {
    let fixtures: Vec<(Vec<u8>, FileType)> = vec![
        (png_1x1(), FileType::Png),
        (jpeg_8x8(), FileType::Jpeg),
        (GIF_1X1.to_vec(), FileType::Gif),
        (WEBP_1X1.to_vec(), FileType::Webp),
        (pdf_min(), FileType::Pdf),
        (docx(), FileType::Docx),
    ];
    for (bytes, ty) in fixtures {
        // (a PDF may end in white space after %%EOF)
        let keep = if ty == FileType::Pdf {
            bytes.len() - 1
        } else {
            bytes.len()
        };
        for n in 0..keep {
            let got = detect(&bytes[..n]).map(|d| d.file_type);
            assert_ne!(got, Some(ty), "{ty:?} truncated to {n} bytes");
        }
    }
}

#[test]
fn polyglots_and_appended_payloads_are_refused() {
    // a PNG followed by an HTML page
    let mut png_html = png_1x1();
    png_html.extend_from_slice(b"<html><script>alert(1)</script></html>");
    assert_eq!(detect(&png_html), None);
    // the PNG signature in front of an HTML page
    let mut sig_html = b"\x89PNG\r\n\x1a\n".to_vec();
    sig_html.extend_from_slice(b"<html><script>alert(1)</script></html>");
    assert_eq!(detect(&sig_html), None);
    // a GIF with a script after its trailer
    let mut gif_js = GIF_1X1.to_vec();
    gif_js.extend_from_slice(b"*/=alert(1)//");
    assert_eq!(detect(&gif_js), None);
    // a JPEG with a ZIP appended
    let mut jpeg_zip = jpeg_8x8();
    jpeg_zip.extend(docx());
    assert_ne!(detect(&jpeg_zip).map(|d| d.file_type), Some(FileType::Jpeg));
    // a ZIP with bytes in front (a self-extracting archive, a GIFAR)
    let mut gifar = GIF_1X1.to_vec();
    gifar.extend(docx());
    assert_eq!(detect(&gifar), None);
    // a WebP whose RIFF size does not match
    let mut webp = WEBP_1X1.to_vec();
    webp.extend_from_slice(b"\0\0");
    assert_eq!(detect(&webp), None);
    // a PDF with something after %%EOF
    let mut pdf = pdf_min();
    pdf.extend_from_slice(b"<html></html>");
    assert_ne!(detect(&pdf).map(|d| d.file_type), Some(FileType::Pdf));
}

#[test]
fn a_png_with_a_bad_crc_or_ihdr_not_first_is_refused() {
    let mut bad_crc = png_1x1();
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 1;
    assert_eq!(detect(&bad_crc), None);
    let mut idat_first = b"\x89PNG\r\n\x1a\n".to_vec();
    idat_first.extend(chunk(b"IDAT", b"x"));
    idat_first.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
    idat_first.extend(chunk(b"IEND", &[]));
    assert_eq!(detect(&idat_first), None);
}

#[test]
fn office_zips_that_are_not_plain_documents_are_refused() {
    let ct: (&str, &[u8]) = ("[Content_Types].xml", b"x");
    // no [Content_Types].xml: a plain ZIP
    assert_eq!(detect(&zip(&[("word/document.xml", b"x")])), None);
    // two families at once
    assert_eq!(
        detect(&zip(&[
            ct,
            ("word/document.xml", b"x"),
            ("xl/workbook.xml", b"x")
        ])),
        None
    );
    // a macro project: a .docm, not a .docx
    assert_eq!(
        detect(&zip(&[
            ct,
            ("word/document.xml", b"x"),
            ("word/vbaProject.bin", b"x")
        ])),
        None
    );
    // zip-slip names
    for evil in [
        "../word/x.xml",
        "/word/x.xml",
        "word\\..\\x",
        "word/../../x",
    ] {
        assert_eq!(
            detect(&zip(&[ct, ("word/document.xml", b"x"), (evil, b"x")])),
            None,
            "{evil}"
        );
    }
    // a local header that names another file than the directory
    let mut renamed = docx();
    let pos = renamed
        .windows(17)
        .position(|w| w == b"word/document.xml")
        .unwrap();
    renamed[pos] = b'W';
    assert_eq!(detect(&renamed), None);
    // a trailing comment that does not reach the end
    let mut tail = docx();
    tail.push(0);
    assert_eq!(detect(&tail), None);
}

#[test]
fn huge_declared_sizes_do_not_overflow_or_allocate() {
    // a PNG chunk declaring 4 GiB
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend([0xFF, 0xFF, 0xFF, 0xFF]);
    png.extend(b"IHDR");
    png.extend([0u8; 32]);
    assert_eq!(detect(&png), None);
    // a RIFF size of 4 GiB
    let mut webp = WEBP_1X1.to_vec();
    webp[4..8].copy_from_slice(&[0xFF; 4]);
    assert_eq!(detect(&webp), None);
    // a WebP chunk of 4 GiB
    let mut webp = WEBP_1X1.to_vec();
    webp[16..20].copy_from_slice(&[0xFF; 4]);
    assert_eq!(detect(&webp), None);
    // ZIP sizes and offsets at their maximum (ZIP64 markers) and past the end
    let base = docx();
    let eocd = base.len() - 22;
    for (at, v) in [(eocd + 12, u32::MAX), (eocd + 16, u32::MAX), (eocd + 16, 7)] {
        let mut z = base.clone();
        z[at..at + 4].copy_from_slice(&v.to_le_bytes());
        assert_eq!(detect(&z), None);
    }
    let cd = u32::from_le_bytes(base[eocd + 16..eocd + 20].try_into().unwrap()) as usize;
    for field in [20, 24, 42] {
        let mut z = base.clone();
        z[cd + field..cd + field + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(detect(&z), None, "central directory field {field}");
    }
    // an entry count of 65535
    let mut z = base.clone();
    z[eocd + 10..eocd + 12].copy_from_slice(&[0xFF, 0xFF]);
    assert_eq!(detect(&z), None);
    // a JPEG segment length past the end
    let mut j = jpeg_8x8();
    j[4..6].copy_from_slice(&[0xFF, 0xFF]);
    assert_eq!(detect(&j), None);
}

#[test]
fn text_is_utf8_without_nul_or_binary_controls() {
    for ok in [
        "plain",
        "tabs\tand\nlines\r\n",
        "\u{feff}bom",
        "form\x0cfeed",
        "ünïcødé ✓",
    ] {
        assert_eq!(
            detect(ok.as_bytes()).map(|d| d.file_type),
            Some(FileType::Text),
            "{ok:?}"
        );
    }
    for bad in [
        &b"nul\0byte"[..],
        b"bell\x07",
        b"esc\x1b[31m",
        b"del\x7f",
        b"\xff\xfe",
        b"\xc2\x85c1",
    ] {
        assert_eq!(detect(bad), None, "{bad:?}");
    }
    assert_eq!(detect(b""), None);
    // the byte scan agrees with char::is_control over the first 1024 code points
    for c in (0u32..1024).filter_map(char::from_u32) {
        let s = format!("a{c}b");
        let want = matches!(c, '\t' | '\n' | '\x0C' | '\r') || !c.is_control();
        assert_eq!(text(s.as_bytes()), want, "U+{:04X}", c as u32);
    }
}

#[test]
fn random_bytes_and_mutated_fixtures_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let prefixes: [&[u8]; 7] = [
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
        b"GIF89a",
        b"RIFF",
        b"%PDF-1.",
        b"PK\x03\x04",
        b"",
    ];
    let r = rules(
        &[
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ],
        1 << 20,
    );
    for i in 0..4000 {
        let mut b = prefixes[i % prefixes.len()].to_vec();
        let n = (rng.next() % 300) as usize;
        b.extend(rng.bytes(n));
        let _ = detect(&b);
        let _ = r.check(Some("image/png"), &b);
        let _ = r.check(Some("multipart/form-data; boundary=x"), &b);
    }
    let fixtures = [
        png_1x1(),
        jpeg_8x8(),
        GIF_1X1.to_vec(),
        WEBP_1X1.to_vec(),
        pdf_min(),
        docx(),
    ];
    for f in &fixtures {
        for _ in 0..500 {
            let mut m = f.clone();
            for _ in 0..1 + rng.next() % 4 {
                let at = (rng.next() as usize) % m.len();
                m[at] = rng.next() as u8;
            }
            let _ = detect(&m);
        }
    }
}

// ---------------------------------------------------------------- file names

#[test]
fn file_names_are_sanitised() {
    let png = FileType::Png;
    let cases: [(&str, FileType, &str); 18] = [
        ("photo.png", png, "photo.png"),
        ("Photo.PNG", png, "Photo.png"),
        ("../../etc/passwd", png, "passwd.png"),
        ("..\\..\\windows\\system32\\evil.png", png, "evil.png"),
        ("C:\\Users\\me\\cat.png", png, "cat.png"),
        ("shell.php", png, "shell.png"),
        ("shell.php.png", png, "shell_php.png"),
        (".htaccess", png, "htaccess.png"),
        ("...", png, "upload.png"),
        ("", png, "upload.png"),
        ("CON.png", png, "_CON.png"),
        ("lpt1", png, "_lpt1.png"),
        ("com0.txt", FileType::Text, "_com0.txt"),
        ("invoice\u{202E}gnp.exe", png, "invoicegnp.png"),
        ("a\u{0}b\nc\u{7f}d\u{85}.png", png, "abcd.png"),
        (
            "what?<is>:this|\"*.jpeg",
            FileType::Jpeg,
            "what__is__this___.jpeg",
        ),
        ("report.final.pdf", FileType::Pdf, "report_final.pdf"),
        (" spaced name .png ", png, "spaced name.png"),
    ];
    for (raw, ty, want) in cases {
        assert_eq!(sanitize_filename(raw, ty), want, "{raw:?}");
    }
}

#[test]
fn long_file_names_are_cut_on_a_character_boundary() {
    let long = format!("{}.png", "é".repeat(300));
    let got = sanitize_filename(&long, FileType::Png);
    assert!(got.len() <= MAX_STEM_BYTES + 4, "{}", got.len());
    assert!(got.ends_with(".png") && got.starts_with('é'));
}

// ---------------------------------------------------------------- the check

#[test]
fn a_raw_png_is_accepted_with_its_description() {
    let r = rules(&["image/png", "image/jpeg"], 1024);
    let png = png_1x1();
    let u = r
        .check(Some("image/png; name=\"../cat.png\""), &png)
        .unwrap();
    assert_eq!(u.file_type, FileType::Png);
    assert_eq!(
        (u.filename.as_str(), u.size, u.offset, u.dimensions),
        ("cat.png", png.len(), 0, Some((1, 1)))
    );
    assert_eq!(u.sha256.len(), 64);
    let v = u.to_value();
    assert_eq!(
        (v["type"].as_str(), v["width"].as_u64()),
        (Some("image/png"), Some(1))
    );
    // no name: a default one with the type's extension
    let u = r.check(Some("IMAGE/JPEG"), &jpeg_8x8()).unwrap();
    assert_eq!(u.filename, "upload.jpg");
}

#[test]
fn declared_type_must_be_allowed_and_match_the_bytes() {
    let r = rules(&["image/png"], 4096);
    // a PDF declared image/png
    assert_eq!(
        code(r.check(Some("image/png"), &pdf_min())),
        ErrorCode::UnsupportedMediaType
    );
    // a real JPEG, but JPEG is not on the list
    assert_eq!(
        code(r.check(Some("image/jpeg"), &jpeg_8x8())),
        ErrorCode::UnsupportedMediaType
    );
    // a PNG declared as something else, or nothing
    assert_eq!(
        code(r.check(Some("application/octet-stream"), &png_1x1())),
        ErrorCode::UnsupportedMediaType
    );
    assert_eq!(
        code(r.check(None, &png_1x1())),
        ErrorCode::UnsupportedMediaType
    );
    assert_eq!(
        code(r.check(Some("image/png;;;=\""), &png_1x1())),
        ErrorCode::UnsupportedMediaType
    );
    // a text file that is a valid PDF is a PDF, not text
    let t = rules(&["text/plain"], 4096);
    assert_eq!(
        code(t.check(Some("text/plain"), &pdf_min())),
        ErrorCode::UnsupportedMediaType
    );
    assert!(t.check(Some("text/plain; charset=utf-8"), b"hello").is_ok());
    // a docx declared as xlsx
    let o = rules(
        &["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
        4096,
    );
    assert_eq!(
        code(o.check(
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            &docx()
        )),
        ErrorCode::UnsupportedMediaType
    );
}

#[test]
fn sizes_empty_files_and_dimensions() {
    let png = png_1x1();
    let r = rules(&["image/png"], png.len());
    assert!(r.check(Some("image/png"), &png).is_ok());
    let tight = rules(&["image/png"], png.len() - 1);
    assert_eq!(
        code(tight.check(Some("image/png"), &png)),
        ErrorCode::PayloadTooLarge
    );
    assert_eq!(
        code(r.check(Some("image/png"), b"")),
        ErrorCode::InvalidBody
    );
    let huge = vec![0u8; r.body_limit() + 1];
    assert_eq!(
        code(r.check(Some("image/png"), &huge)),
        ErrorCode::PayloadTooLarge
    );
    // a 100000 × 100000 PNG header (a decompression bomb) is refused by its declared size
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    bomb.extend(chunk(
        b"IHDR",
        &[0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0, 8, 6, 0, 0, 0],
    ));
    bomb.extend(chunk(b"IEND", &[]));
    assert_eq!(
        detect(&bomb).map(|d| d.dimensions),
        Some(Some((100_000, 100_000)))
    );
    assert_eq!(
        code(r.check(Some("image/png"), &bomb)),
        ErrorCode::PayloadTooLarge
    );
    let small = UploadRules::from_value(
        &json!({"types": ["image/jpeg"], "max_bytes": 4096, "max_pixels": 63}),
    )
    .unwrap();
    assert_eq!(
        code(small.check(Some("image/jpeg"), &jpeg_8x8())),
        ErrorCode::PayloadTooLarge
    );
}

#[test]
fn a_multipart_body_with_one_file_part_is_accepted() {
    let r = rules(&["image/png"], 1024);
    let png = png_1x1();
    let body = multipart(
        "----b0undary",
        "Content-Disposition: form-data; name=\"file\"; filename=\"../../evil.php.png\"\r\nContent-Type: image/png",
        &png,
    );
    let u = r
        .check(Some("multipart/form-data; boundary=----b0undary"), &body)
        .unwrap();
    assert_eq!((u.filename.as_str(), u.size), ("evil_php.png", png.len()));
    assert_eq!(&body[u.offset..u.offset + u.size], &png[..]);
    // filename* (RFC 8187) wins over filename
    let body = multipart(
        "b",
        "content-disposition: form-data; name=file; filename=\"x.png\"; filename*=UTF-8''caf%C3%A9.png\r\ncontent-type: image/png",
        &png,
    );
    let u = r
        .check(Some("multipart/form-data; boundary=\"b\""), &body)
        .unwrap();
    assert_eq!(u.filename, "café.png");
    // the file may contain the boundary text without the CRLF-- in front
    let body = multipart(
        "b",
        "Content-Disposition: form-data; name=file\r\nContent-Type: text/plain",
        b"a--b\r\n-b",
    );
    let t = rules(&["text/plain"], 1024);
    assert_eq!(
        t.check(Some("multipart/form-data; boundary=b"), &body)
            .unwrap()
            .size,
        8
    );
}

#[test]
fn malformed_multipart_bodies_are_invalid() {
    let r = rules(&["image/png"], 1024);
    let png = png_1x1();
    let ct = Some("multipart/form-data; boundary=b");
    let good_headers = "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png";
    let bad: Vec<(Option<&str>, Vec<u8>, ErrorCode)> = vec![
        // no boundary, a bad one
        (Some("multipart/form-data"), multipart("b", good_headers, &png), ErrorCode::InvalidBody),
        (Some("multipart/form-data; boundary=\"a\x01\""), multipart("b", good_headers, &png), ErrorCode::InvalidBody),
        // a preamble, no closing delimiter, an epilogue, a second part
        (ct, [b"pre\r\n".as_slice(), &multipart("b", good_headers, &png)].concat(), ErrorCode::InvalidBody),
        (ct, multipart("b", good_headers, &png)[..40].to_vec(), ErrorCode::InvalidBody),
        (ct, [multipart("b", good_headers, &png).as_slice(), b"epilogue"].concat(), ErrorCode::InvalidBody),
        (ct, {
            let mut m = multipart("b", good_headers, &png);
            m.truncate(m.len() - 4);
            m.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--");
            m
        }, ErrorCode::InvalidBody),
        // another field name, no disposition, repeated headers, encodings
        (ct, multipart("b", "Content-Disposition: form-data; name=\"avatar\"\r\nContent-Type: image/png", &png), ErrorCode::InvalidBody),
        (ct, multipart("b", "Content-Type: image/png", &png), ErrorCode::InvalidBody),
        (ct, multipart("b", &format!("{good_headers}\r\nContent-Type: image/png"), &png), ErrorCode::InvalidBody),
        (ct, multipart("b", &format!("{good_headers}\r\nContent-Transfer-Encoding: base64"), &png), ErrorCode::InvalidBody),
        (ct, multipart("b", "Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''%ZZ.png\r\nContent-Type: image/png", &png), ErrorCode::InvalidBody),
        (ct, multipart("b", "Content-Disposition: form-data; name=\"file\"; filename=\"unterminated\r\nContent-Type: image/png", &png), ErrorCode::InvalidBody),
        (ct, multipart("b", "Content-Disposition: form-data; name=\"file\"; name=\"file\"\r\nContent-Type: image/png", &png), ErrorCode::InvalidBody),
        // an empty file part
        (ct, multipart("b", good_headers, b""), ErrorCode::InvalidBody),
        // a part declared image/png holding a PDF; a part without a type
        (ct, multipart("b", good_headers, &pdf_min()), ErrorCode::UnsupportedMediaType),
        (ct, multipart("b", "Content-Disposition: form-data; name=\"file\"", &png), ErrorCode::UnsupportedMediaType),
    ];
    for (i, (ct, body, want)) in bad.into_iter().enumerate() {
        assert_eq!(code(r.check(ct, &body)), want, "case {i}");
    }
}

#[test]
fn policy_sections_are_validated() {
    assert!(UploadRules::from_value(
        &json!({"types": ["image/png"], "max_bytes": 10, "field": "image", "max_pixels": 100})
    )
    .is_ok());
    for bad in [
        json!({"types": [], "max_bytes": 10}),
        json!({"types": ["image/svg+xml"], "max_bytes": 10}),
        json!({"types": ["image/png", "IMAGE/PNG"], "max_bytes": 10}),
        json!({"types": ["image/png"], "max_bytes": 0}),
        json!({"types": ["image/png"], "max_bytes": MAX_FILE_BYTES + 1}),
        json!({"types": ["image/png"]}),
        json!({"types": ["image/png"], "max_bytes": 10, "field": "a b"}),
        json!({"types": ["image/png"], "max_bytes": 10, "max_pixels": 0}),
        json!({"types": ["image/png"], "max_bytes": 10, "maxBytes": 10}),
    ] {
        let e = UploadRules::from_value(&bad).unwrap_err();
        assert_eq!(e.code, ErrorCode::Misconfigured, "{bad}");
    }
}

#[test]
fn an_upload_route_body_section_hands_the_description_as_the_value() {
    use crate::schema::BodyRules;
    let section = json!({"max_bytes": 4096, "content_types": ["application/json"],
                         "upload": {"types": ["image/png"], "max_bytes": 100000}});
    let b = BodyRules::from_value(Some(&section)).unwrap();
    assert_eq!(
        b.max_bytes(),
        100000 + MULTIPART_ALLOWANCE,
        "the streamed limit follows the upload"
    );
    let v = b.check(Some("image/png"), &png_1x1()).unwrap();
    assert_eq!(v["type"], "image/png");
    assert_eq!(
        b.check(Some("application/json"), b"{}")
            .unwrap_err()
            .denial
            .code,
        ErrorCode::UnsupportedMediaType
    );
    let with_schema =
        json!({"schema": {"type": "object"}, "upload": {"types": ["image/png"], "max_bytes": 10}});
    assert_eq!(
        BodyRules::from_value(Some(&with_schema)).unwrap_err().code,
        ErrorCode::Misconfigured
    );
    let bad = json!({"upload": {"types": ["image/bmp"], "max_bytes": 10}});
    assert_eq!(
        BodyRules::from_value(Some(&bad)).unwrap_err().code,
        ErrorCode::Misconfigured
    );
}

#[test]
fn the_policy_names_the_route_of_a_bad_upload_section() {
    let policy = |upload: serde_json::Value| {
        json!({"routes": [{"method": "GET", "path": "/a"},
                          {"method": "PUT", "path": "/f", "body": {"upload": upload}}]})
        .to_string()
    };
    let ok =
        crate::policy::Policy::from_json(&policy(json!({"types": ["image/png"], "max_bytes": 10})));
    assert!(ok.is_ok());
    let e =
        crate::policy::Policy::from_json(&policy(json!({"types": ["image/png"], "maxBytes": 10})))
            .unwrap_err();
    assert!(
        e.0.starts_with("routes[1].body.upload: unknown field `maxBytes`"),
        "{e}"
    );
    let e =
        crate::policy::Policy::from_json(&policy(json!({"types": ["image/bmp"], "max_bytes": 10})))
            .unwrap_err();
    assert!(
        e.0.starts_with("routes[1].body.upload.types: unsupported type"),
        "{e}"
    );
}
