//! Upload checks: a route whose body is a file (docs/policy.md, "Uploads").
//!
//! # Policy: `body.upload`
//!
//! ```json
//! {"body": {"upload": {"types": ["image/png", "image/jpeg"], "max_bytes": 2097152,
//!                      "field": "file", "max_pixels": 40000000}}}
//! ```
//!
//! `types` (required): the allow-list, by media type — `image/png`,
//! `image/jpeg`, `image/gif`, `image/webp`, `application/pdf`, the three
//! OOXML office types (docx, xlsx, pptx) and `text/plain`. `max_bytes`
//! (required, 1..=[`MAX_FILE_BYTES`]): the largest file. `field` (default
//! `file`): the name of the file part of a `multipart/form-data` body.
//! `max_pixels` (default [`DEFAULT_MAX_PIXELS`]): the largest image, width ×
//! height as the file declares it (before anything decodes it).
//!
//! # How a file arrives
//!
//! - a raw body: `Content-Type: image/png` (optionally `; name="photo.png"`,
//!   the MIME name parameter, for the file name), the bytes as the body;
//! - `multipart/form-data` with exactly one part, the file field (its
//!   `Content-Disposition` carries `filename` / `filename*`, its
//!   `Content-Type` the declared type).
//!
//! # The checks, in order, and their codes
//!
//! 1. no body → `INVALID_BODY` 400; a malformed multipart body, part header
//!    or file name → `INVALID_BODY` 400;
//! 2. the declared type is not on the route's list → `UNSUPPORTED_MEDIA_TYPE` 415;
//! 3. the file is larger than `max_bytes` → `PAYLOAD_TOO_LARGE` 413 (the shim
//!    has already stopped reading at [`UploadRules::body_limit`]);
//! 4. the bytes are not a well-formed file of the declared type (magic bytes
//!    *and* structure: a PNG's chunks with their CRCs up to `IEND` at the very
//!    end, a JPEG's segments up to `EOI`, a GIF's blocks up to its trailer,
//!    a WebP's RIFF chunks, a PDF's header and final `%%EOF`, an OOXML ZIP's
//!    central directory and local headers naming `[Content_Types].xml` and
//!    the family's folder, UTF-8 text without NUL or control bytes) →
//!    `UNSUPPORTED_MEDIA_TYPE` 415. So a PDF declared `image/png`, a PNG
//!    with an HTML page appended, a truncated file or a macro-enabled
//!    document declared as `.docx` are refused;
//! 5. an image larger than `max_pixels` → `PAYLOAD_TOO_LARGE` 413.
//!
//! Nothing is decompressed or decoded: every check reads the bytes once,
//! bounded by their length, and never panics on truncated or garbage input.
//!
//! The accepted file is described by [`Upload`] (the handler's `ctx.body`):
//! detected type, sanitised file name, size, offset of the file in the raw
//! body, SHA-256, and image dimensions.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{Denial, ErrorCode};

/// The largest configurable `max_bytes` of a file.
pub const MAX_FILE_BYTES: usize = crate::schema::MAX_MAX_BYTES - MULTIPART_ALLOWANCE;
/// What a multipart body may add around the file (boundaries, part headers).
pub const MULTIPART_ALLOWANCE: usize = 16 << 10;
/// The default largest image, in pixels (width × height).
pub const DEFAULT_MAX_PIXELS: u64 = 40_000_000;
/// The largest configurable `max_pixels`.
pub const MAX_MAX_PIXELS: u64 = 1 << 28;
/// File names are cut to this many bytes before the extension.
pub const MAX_STEM_BYTES: usize = 100;
/// A ZIP with more entries than this is not accepted as an office file.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// At most this many bytes of part headers in a multipart body.
const MAX_PART_HEADER_BYTES: usize = 8 << 10;

/// A file type the upload checks recognise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// `image/png`
    Png,
    /// `image/jpeg`
    Jpeg,
    /// `image/gif`
    Gif,
    /// `image/webp`
    Webp,
    /// `application/pdf`
    Pdf,
    /// Word (OOXML) document.
    Docx,
    /// Excel (OOXML) workbook.
    Xlsx,
    /// PowerPoint (OOXML) presentation.
    Pptx,
    /// `text/plain` (UTF-8).
    Text,
}

const ALL_TYPES: [FileType; 9] = [
    FileType::Png,
    FileType::Jpeg,
    FileType::Gif,
    FileType::Webp,
    FileType::Pdf,
    FileType::Docx,
    FileType::Xlsx,
    FileType::Pptx,
    FileType::Text,
];

impl FileType {
    /// The media type, e.g. `image/png`.
    pub const fn mime(self) -> &'static str {
        match self {
            FileType::Png => "image/png",
            FileType::Jpeg => "image/jpeg",
            FileType::Gif => "image/gif",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileType::Text => "text/plain",
        }
    }

    /// The type named by a media type (the essence, lower case); `None` when unknown.
    pub fn from_mime(mime: &str) -> Option<FileType> {
        ALL_TYPES.into_iter().find(|t| t.mime() == mime)
    }

    /// File name extensions kept for this type; the first is the one given
    /// to a file whose own extension does not fit.
    pub const fn extensions(self) -> &'static [&'static str] {
        match self {
            FileType::Png => &["png"],
            FileType::Jpeg => &["jpg", "jpeg"],
            FileType::Gif => &["gif"],
            FileType::Webp => &["webp"],
            FileType::Pdf => &["pdf"],
            FileType::Docx => &["docx"],
            FileType::Xlsx => &["xlsx"],
            FileType::Pptx => &["pptx"],
            FileType::Text => &["txt", "text", "csv", "md", "log"],
        }
    }

    /// Whether the type is an image (its dimensions are checked).
    pub const fn is_image(self) -> bool {
        matches!(
            self,
            FileType::Png | FileType::Jpeg | FileType::Gif | FileType::Webp
        )
    }
}

// ---------------------------------------------------------------- detection

/// What the bytes turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detected {
    /// The type whose structure the bytes satisfy.
    pub file_type: FileType,
    /// Width and height for images, as the file declares them.
    pub dimensions: Option<(u32, u32)>,
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_be_bytes([s[0], s[1]])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le16(b: &[u8], at: usize) -> Option<usize> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(3)?)?;
    Some(u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// A PNG: signature, `IHDR` first, every chunk's CRC, `IEND` as the last bytes.
fn png(b: &[u8]) -> Option<(u32, u32)> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !b.starts_with(SIG) {
        return None;
    }
    let mut at = SIG.len();
    let mut dims = None;
    let mut first = true;
    loop {
        let len = usize::try_from(be32(b, at)?).ok()?;
        if len > 0x7fff_ffff {
            return None;
        }
        let kind = b.get(at + 4..at + 8)?;
        if !kind.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let data_end = (at + 8).checked_add(len)?;
        let data = b.get(at + 8..data_end)?;
        let crc = be32(b, data_end)?;
        let mut h = crate::crc32::Crc32::new();
        h.update(kind);
        h.update(data);
        if h.finalize() != crc {
            return None;
        }
        if first {
            if kind != b"IHDR" || len != 13 {
                return None;
            }
            let (w, hgt) = (be32(data, 0)?, be32(data, 4)?);
            if w == 0 || hgt == 0 {
                return None;
            }
            dims = Some((w, hgt));
            first = false;
        }
        at = data_end + 4;
        if kind == b"IEND" {
            return if at == b.len() { dims } else { None };
        }
    }
}

/// A JPEG: SOI, marker segments with a frame header before the scan, `EOI` as the last bytes.
fn jpeg(b: &[u8]) -> Option<(u32, u32)> {
    if !b.starts_with(&[0xFF, 0xD8, 0xFF]) || !b.ends_with(&[0xFF, 0xD9]) || b.len() < 6 {
        return None;
    }
    let mut at = 2;
    let mut dims = None;
    loop {
        if *b.get(at)? != 0xFF {
            return None;
        }
        while *b.get(at)? == 0xFF {
            at += 1;
        }
        let marker = *b.get(at)?;
        at += 1;
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD8 | 0xD9 | 0x00 => return None,
            _ => {}
        }
        let len = be16(b, at)?;
        if len < 2 {
            return None;
        }
        let seg = b.get(at + 2..at + len)?;
        // SOFn (not DHT C4, JPG C8, DAC CC): precision, height, width
        if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let (h, w) = (be16(seg, 1)?, be16(seg, 3)?);
            if w == 0 {
                return None;
            }
            dims = Some((w as u32, h as u32));
        }
        at += len;
        if marker == 0xDA {
            // the entropy-coded data runs to EOI, checked above
            return if dims.is_some() && at + 2 <= b.len() {
                dims
            } else {
                None
            };
        }
    }
}

/// Skips GIF data sub-blocks from `at`; the index after the terminator.
fn gif_sub_blocks(b: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let n = usize::from(*b.get(at)?);
        at += 1;
        if n == 0 {
            return Some(at);
        }
        at += n;
    }
}

/// A GIF: header, screen descriptor, blocks, the trailer as the last byte.
fn gif(b: &[u8]) -> Option<(u32, u32)> {
    if !(b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a")) {
        return None;
    }
    let (w, h) = (le16(b, 6)?, le16(b, 8)?);
    let flags = *b.get(10)?;
    let mut at = 13;
    if flags & 0x80 != 0 {
        at += 3 << ((flags & 7) + 1);
    }
    let mut images = 0;
    loop {
        match *b.get(at)? {
            0x3B => {
                return (at + 1 == b.len() && images > 0 && w > 0 && h > 0)
                    .then_some((w as u32, h as u32));
            }
            0x21 => at = gif_sub_blocks(b, at + 2)?,
            0x2C => {
                let f = *b.get(at + 9)?;
                at += 10;
                if f & 0x80 != 0 {
                    at += 3 << ((f & 7) + 1);
                }
                let _lzw_min_code_size = *b.get(at)?;
                at = gif_sub_blocks(b, at + 1)?;
                images += 1;
            }
            _ => return None,
        }
    }
}

/// A WebP: a RIFF container whose size is the file's, chunks to the end, an image chunk.
fn webp(b: &[u8]) -> Option<(u32, u32)> {
    if b.get(0..4)? != b"RIFF" || b.get(8..12)? != b"WEBP" {
        return None;
    }
    let size = usize::try_from(le32(b, 4)?).ok()?;
    if size.checked_add(8)? != b.len() {
        return None;
    }
    let mut at = 12;
    let mut dims = None;
    let mut image = false;
    while at < b.len() {
        let kind = b.get(at..at + 4)?;
        let len = usize::try_from(le32(b, at + 4)?).ok()?;
        let data = b.get(at + 8..(at + 8).checked_add(len)?)?;
        match kind {
            b"VP8X" if at == 12 => {
                dims = Some((le24(data, 4)? + 1, le24(data, 7)? + 1));
            }
            b"VP8 " => {
                image = true;
                if data.get(3..6)? != [0x9D, 0x01, 0x2A] {
                    return None;
                }
                let d = (
                    (le16(data, 6)? & 0x3FFF) as u32,
                    (le16(data, 8)? & 0x3FFF) as u32,
                );
                dims.get_or_insert(d);
            }
            b"VP8L" => {
                image = true;
                if *data.first()? != 0x2F {
                    return None;
                }
                let bits = le32(data, 1)?;
                let d = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
                dims.get_or_insert(d);
            }
            b"ANIM" | b"ANMF" | b"ALPH" | b"ICCP" | b"EXIF" | b"XMP " => {
                image |= kind == b"ANMF";
            }
            _ => return None,
        }
        at += 8 + len + (len & 1);
    }
    let d = dims?;
    (image && at == b.len() && d.0 > 0 && d.1 > 0).then_some(d)
}

/// A PDF: `%PDF-1.x`/`%PDF-2.x` at the start, `%%EOF` at the end (trailing whitespace allowed).
fn pdf(b: &[u8]) -> bool {
    let head_ok = b.starts_with(b"%PDF-")
        && matches!(b.get(5), Some(b'1' | b'2'))
        && b.get(6) == Some(&b'.')
        && b.get(7).is_some_and(u8::is_ascii_digit);
    let end = b
        .iter()
        .rposition(|c| !matches!(c, b'\r' | b'\n' | b' ' | b'\t' | 0x0C | 0))
        .map_or(0, |i| i + 1);
    head_ok && b.get(..end).is_some_and(|t| t.ends_with(b"%%EOF"))
}

/// Which OOXML family a ZIP is: its central directory (the end record as the
/// last bytes, no ZIP64, entries consistent with their local headers from
/// offset 0) must name `[Content_Types].xml` and files under exactly one of
/// `word/`, `xl/`, `ppt/`; macro projects (`vbaProject.bin`) and unsafe entry
/// names (absolute, `..`, backslashes) refuse the file.
fn ooxml(b: &[u8]) -> Option<FileType> {
    if !b.starts_with(b"PK\x03\x04") || b.len() < 22 {
        return None;
    }
    // the end-of-central-directory record: its comment must reach exactly the end
    let lowest = b.len().saturating_sub(22 + 0xFFFF);
    let eocd = (lowest..=b.len() - 22).rev().find(|&i| {
        b.get(i..i + 4) == Some(b"PK\x05\x06")
            && le16(b, i + 20).map(|c| i + 22 + c) == Some(b.len())
    })?;
    let entries = le16(b, eocd + 10)?;
    let cd_size = usize::try_from(le32(b, eocd + 12)?).ok()?;
    let cd_start = usize::try_from(le32(b, eocd + 16)?).ok()?;
    if entries == 0
        || entries == 0xFFFF
        || entries > MAX_ZIP_ENTRIES
        || cd_start.checked_add(cd_size)? != eocd
    {
        return None;
    }
    let (mut content_types, mut macros) = (false, false);
    let mut families = [false; 3];
    let mut at = cd_start;
    for _ in 0..entries {
        if b.get(at..at + 4)? != b"PK\x01\x02" {
            return None;
        }
        let csize = le32(b, at + 20)?;
        let usize_ = le32(b, at + 24)?;
        let (nlen, xlen, clen) = (le16(b, at + 28)?, le16(b, at + 30)?, le16(b, at + 32)?);
        let local = usize::try_from(le32(b, at + 42)?).ok()?;
        if csize == u32::MAX || usize_ == u32::MAX || local >= cd_start {
            return None; // ZIP64, or a local header that is not before the directory
        }
        let name = b.get(at + 46..at + 46 + nlen)?;
        // the local header at `local` carries the same name and lies before the directory
        if b.get(local..local + 4)? != b"PK\x03\x04"
            || b.get(local + 30..local + 30 + le16(b, local + 26)?)? != name
        {
            return None;
        }
        let data_end = (local + 30 + le16(b, local + 26)? + le16(b, local + 28)?)
            .checked_add(usize::try_from(csize).ok()?)?;
        if data_end > cd_start {
            return None;
        }
        let name = std::str::from_utf8(name).ok()?;
        if name.is_empty()
            || name.starts_with('/')
            || name.contains('\\')
            || name.split('/').any(|s| s == "..")
            || name.bytes().any(|c| c < 0x20)
        {
            return None;
        }
        content_types |= name == "[Content_Types].xml";
        macros |= name.to_ascii_lowercase().ends_with("vbaproject.bin");
        for (i, dir) in ["word/", "xl/", "ppt/"].iter().enumerate() {
            families[i] |= name.starts_with(dir);
        }
        at += 46 + nlen + xlen + clen;
    }
    if at != eocd || !content_types || macros {
        return None;
    }
    match families {
        [true, false, false] => Some(FileType::Docx),
        [false, true, false] => Some(FileType::Xlsx),
        [false, false, true] => Some(FileType::Pptx),
        _ => None,
    }
}

/// Plain text: UTF-8 (a BOM allowed), no NUL, no control characters but tab,
/// line feed, form feed and carriage return, no C1 controls.
fn text(b: &[u8]) -> bool {
    if std::str::from_utf8(b).is_err() {
        return false;
    }
    // valid UTF-8: a byte below 0x80 is a whole character, and 0xC2 always
    // leads a two-byte one (U+0080..U+00BF; C1 controls are 0xC2 0x80..=0x9F)
    b.iter().enumerate().all(|(i, &c)| match c {
        b'\t' | b'\n' | 0x0C | b'\r' => true,
        0x00..=0x1F | 0x7F => false,
        0xC2 => !b.get(i + 1).is_some_and(|n| (0x80..=0x9F).contains(n)),
        _ => true,
    })
}

/// What `bytes` are: the first type (binary formats before text) whose
/// structure they satisfy; `None` for anything else, empty input included.
pub fn detect(bytes: &[u8]) -> Option<Detected> {
    let image = |file_type, d: Option<(u32, u32)>| {
        d.map(|d| Detected {
            file_type,
            dimensions: Some(d),
        })
    };
    let plain = |file_type| Detected {
        file_type,
        dimensions: None,
    };
    if bytes.is_empty() {
        return None;
    }
    image(FileType::Png, png(bytes))
        .or_else(|| image(FileType::Jpeg, jpeg(bytes)))
        .or_else(|| image(FileType::Gif, gif(bytes)))
        .or_else(|| image(FileType::Webp, webp(bytes)))
        .or_else(|| pdf(bytes).then_some(plain(FileType::Pdf)))
        .or_else(|| ooxml(bytes).map(plain))
        .or_else(|| text(bytes).then_some(plain(FileType::Text)))
}

// ---------------------------------------------------------------- file names

const BIDI_AND_INVISIBLE: [char; 14] = [
    '\u{061C}', '\u{200B}', '\u{200C}', '\u{200D}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}',
    '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
];

fn dropped(c: char) -> bool {
    c.is_control() || BIDI_AND_INVISIBLE.contains(&c) || matches!(c, '\u{2069}' | '\u{FEFF}')
}

fn reserved_on_windows(stem: &str) -> bool {
    let s = stem.trim_end_matches([' ', '.']).to_ascii_uppercase();
    matches!(
        s.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) || ((s.starts_with("COM") || s.starts_with("LPT"))
        && s.len() == 4
        && s.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
}

/// A file name safe to store and to offer for download: the last path
/// segment only, without control, bidi-override and invisible characters;
/// `<>:"|?*` replaced by `_`; no leading dots or spaces, no trailing dots
/// or spaces; inner dots of the stem replaced by `_` (so `shell.php.png` is
/// `shell_php.png`); a reserved Windows device name prefixed with `_`; the
/// stem cut to [`MAX_STEM_BYTES`]; an empty stem becomes `upload`. The
/// extension is kept (lower case) when it belongs to `file_type`, otherwise
/// the type's own replaces it.
pub fn sanitize_filename(raw: &str, file_type: FileType) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !dropped(*c))
        .map(|c| if "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let cleaned = cleaned
        .trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' ']);
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((s, e)) => (s, Some(e.to_ascii_lowercase())),
        None => (cleaned, None),
    };
    let ext = ext
        .filter(|e| file_type.extensions().contains(&e.as_str()))
        .or_else(|| file_type.extensions().first().map(|e| (*e).to_owned()))
        .unwrap_or_default();
    let mut stem: String = stem.replace('.', "_").trim_end_matches(' ').to_owned();
    if stem.len() > MAX_STEM_BYTES {
        let mut cut = MAX_STEM_BYTES;
        while !stem.is_char_boundary(cut) {
            cut -= 1;
        }
        stem.truncate(cut);
        stem = stem.trim_end_matches(' ').to_owned();
    }
    if stem.is_empty() {
        stem = "upload".to_owned();
    }
    if reserved_on_windows(&stem) {
        stem.insert(0, '_');
    }
    format!("{stem}.{ext}")
}

// ---------------------------------------------------------------- header values

fn invalid(reason: &str) -> Denial {
    Denial::new(ErrorCode::InvalidBody, reason)
}

fn unsupported(reason: &str) -> Denial {
    Denial::new(ErrorCode::UnsupportedMediaType, reason)
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A header value `token *( ";" name "=" (token | quoted-string) )`: the
/// first token (lower case) and the parameters (names lower case). Quoted
/// strings end at the next `"` (browsers percent-encode quotes in file
/// names, WHATWG HTML "multipart/form-data encoding"); a backslash escapes
/// the next character only for `\"` and `\\`. `None` when malformed or a
/// parameter repeats.
fn parse_params(v: &str) -> Option<(String, Vec<(String, String)>)> {
    let mut rest = v.trim_start_matches([' ', '\t']);
    let head_end = rest.find(';').unwrap_or(rest.len());
    let head = rest[..head_end]
        .trim_matches([' ', '\t'])
        .to_ascii_lowercase();
    if head.is_empty() || !head.chars().all(|c| is_tchar(c) || c == '/') {
        return None;
    }
    rest = &rest[head_end..];
    let mut params: Vec<(String, String)> = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Some((head, params));
        }
        rest = rest.strip_prefix(';')?.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            return Some((head, params));
        }
        let eq = rest.find('=')?;
        let name = rest[..eq]
            .trim_end_matches([' ', '\t'])
            .to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(is_tchar) {
            return None;
        }
        rest = rest[eq + 1..].trim_start_matches([' ', '\t']);
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    '\\' if matches!(q[i + 1..].chars().next(), Some('"' | '\\')) => {
                        out.push(chars.next()?.1);
                    }
                    _ => out.push(c),
                }
            }
            value = out;
            rest = &q[end?..];
        } else {
            let end = rest.find([';', ' ', '\t']).unwrap_or(rest.len());
            value = rest[..end].to_owned();
            if value.is_empty() || !value.chars().all(is_tchar) {
                return None;
            }
            rest = &rest[end..];
        }
        if params.iter().any(|(n, _)| *n == name) {
            return None;
        }
        params.push((name, value));
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// `filename*=UTF-8''percent-encoded` (RFC 8187); `None` when malformed.
fn ext_value(v: &str) -> Option<String> {
    let (charset, rest) = v.split_once('\'')?;
    let (_lang, enc) = rest.split_once('\'')?;
    if !charset.eq_ignore_ascii_case("utf-8") {
        return None;
    }
    crate::policy::percent_decode(enc)
}

/// The file name of a part's `Content-Disposition` (`filename*` wins).
fn disposition_filename(params: &[(String, String)]) -> Result<Option<String>, Denial> {
    if let Some(v) = param(params, "filename*") {
        return ext_value(v)
            .map(Some)
            .ok_or_else(|| invalid("malformed filename* parameter"));
    }
    Ok(param(params, "filename").map(str::to_owned))
}

// ---------------------------------------------------------------- multipart

/// The first index of `needle` in `hay` from `from`. Linear: a delimiter
/// (`\r\n--boundary`) has its first byte nowhere else, so a partial match
/// never needs to be re-examined.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut at = from;
    while at < hay.len() {
        let i = at + hay.get(at..)?.iter().position(|&c| c == first)?;
        if hay.get(i..i + needle.len())? == needle {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

/// One file part: its bytes' range in the body, its declared type and name.
struct Part {
    start: usize,
    end: usize,
    content_type: Option<String>,
    filename: Option<String>,
}

fn boundary_ok(b: &str) -> bool {
    (1..=70).contains(&b.len())
        && !b.ends_with(' ')
        && b.chars()
            .all(|c| c.is_ascii_alphanumeric() || "'()+_,-./:=? ".contains(c))
}

/// The single part of a `multipart/form-data` body, named `field`.
fn single_part(body: &[u8], boundary: &str, field: &str) -> Result<Part, Denial> {
    let opening = format!("--{boundary}\r\n");
    if !body.starts_with(opening.as_bytes()) {
        return Err(invalid("multipart body does not start with its boundary"));
    }
    let headers_start = opening.len();
    let headers_end = find(body, b"\r\n\r\n", headers_start)
        .filter(|e| e - headers_start <= MAX_PART_HEADER_BYTES)
        .ok_or_else(|| invalid("multipart part headers are malformed or too long"))?;
    let headers = std::str::from_utf8(&body[headers_start..headers_end])
        .map_err(|_| invalid("multipart part headers are not UTF-8"))?;
    let (mut disposition, mut content_type) = (None, None);
    for line in headers.split("\r\n") {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid("malformed multipart part header"))?;
        let value = value.trim_matches([' ', '\t']);
        if value.chars().any(char::is_control) {
            return Err(invalid("control character in a multipart part header"));
        }
        let slot = match name.to_ascii_lowercase().as_str() {
            "content-disposition" => &mut disposition,
            "content-type" => &mut content_type,
            "content-transfer-encoding" => {
                return Err(invalid("Content-Transfer-Encoding is not accepted"))
            }
            _ => continue,
        };
        if slot.replace(value.to_owned()).is_some() {
            return Err(invalid("repeated multipart part header"));
        }
    }
    let disposition =
        disposition.ok_or_else(|| invalid("multipart part without Content-Disposition"))?;
    let (kind, params) =
        parse_params(&disposition).ok_or_else(|| invalid("malformed Content-Disposition"))?;
    if kind != "form-data" || param(&params, "name") != Some(field) {
        return Err(invalid(
            "the multipart body must hold one part, the file field",
        ));
    }
    let filename = disposition_filename(&params)?;
    let start = headers_end + 4;
    let delimiter = format!("\r\n--{boundary}");
    let end = find(body, delimiter.as_bytes(), start)
        .ok_or_else(|| invalid("multipart body is not closed"))?;
    match &body[end + delimiter.len()..] {
        b"--" | b"--\r\n" => {}
        rest if rest.starts_with(b"\r\n") => {
            return Err(invalid(
                "the multipart body must hold one part, the file field",
            ))
        }
        _ => return Err(invalid("multipart body is not closed")),
    }
    Ok(Part {
        start,
        end,
        content_type,
        filename,
    })
}

// ---------------------------------------------------------------- rules

#[derive(Debug)]
struct UploadSection {
    types: Vec<String>,
    max_bytes: usize,
    field: Option<String>,
    max_pixels: Option<u64>,
}

crate::json_read::read_struct!(UploadSection { types: req, max_bytes: req, field: opt, max_pixels: opt });

/// A route's upload rules (`body.upload`).
#[derive(Clone, Debug)]
pub struct UploadRules {
    types: Vec<FileType>,
    max_bytes: usize,
    field: String,
    max_pixels: u64,
}

fn misconfigured(reason: String) -> Denial {
    Denial::new(ErrorCode::Misconfigured, reason)
}

/// An accepted file, as the handler receives it (`ctx.body`); the bytes
/// are `ctx.rawBody[offset .. offset + size]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upload {
    /// The detected (and declared) type.
    pub file_type: FileType,
    /// The sanitised file name ([`sanitize_filename`]).
    pub filename: String,
    /// The file's size in bytes.
    pub size: usize,
    /// Where the file starts in the body (0 for a raw body).
    pub offset: usize,
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// Width and height of an image.
    pub dimensions: Option<(u32, u32)>,
}

impl Upload {
    /// The JSON value handed to the handler.
    pub fn to_value(&self) -> Value {
        let mut v = json!({
            "type": self.file_type.mime(),
            "filename": self.filename,
            "size": self.size,
            "offset": self.offset,
            "sha256": self.sha256,
        });
        if let Some((w, h)) = self.dimensions {
            v["width"] = json!(w);
            v["height"] = json!(h);
        }
        v
    }
}

impl UploadRules {
    /// Validates a `body.upload` section.
    pub fn from_value(v: &Value) -> Result<UploadRules, Denial> {
        let s = <UploadSection as crate::json_read::ReadJson>::read(v)
            .map_err(|e| misconfigured(format!("body.upload: {e}")))?;
        if s.types.is_empty() {
            return Err(misconfigured("body.upload.types must not be empty".into()));
        }
        let mut types = Vec::new();
        for t in &s.types {
            let ft = FileType::from_mime(&t.trim().to_ascii_lowercase()).ok_or_else(|| {
                misconfigured(format!("body.upload.types: unsupported type {t:?}"))
            })?;
            if types.contains(&ft) {
                return Err(misconfigured(format!(
                    "body.upload.types: duplicate type {t:?}"
                )));
            }
            types.push(ft);
        }
        if s.max_bytes == 0 || s.max_bytes > MAX_FILE_BYTES {
            return Err(misconfigured(format!(
                "body.upload.max_bytes must be 1..={MAX_FILE_BYTES}"
            )));
        }
        let field = s.field.unwrap_or_else(|| "file".to_owned());
        if field.is_empty() || field.len() > 64 || !field.chars().all(is_tchar) {
            return Err(misconfigured(
                "body.upload.field: invalid field name".into(),
            ));
        }
        let max_pixels = s.max_pixels.unwrap_or(DEFAULT_MAX_PIXELS);
        if max_pixels == 0 || max_pixels > MAX_MAX_PIXELS {
            return Err(misconfigured(format!(
                "body.upload.max_pixels must be 1..={MAX_MAX_PIXELS}"
            )));
        }
        Ok(UploadRules {
            types,
            max_bytes: s.max_bytes,
            field,
            max_pixels,
        })
    }

    /// The body size limit the shim enforces while streaming: the file plus
    /// room for a multipart envelope.
    pub fn body_limit(&self) -> usize {
        self.max_bytes + MULTIPART_ALLOWANCE
    }

    /// Checks an upload body (see the module documentation for the order).
    pub fn check(&self, content_type: Option<&str>, body: &[u8]) -> Result<Upload, Denial> {
        if body.is_empty() {
            return Err(invalid("a file is required"));
        }
        if body.len() > self.body_limit() {
            return Err(Denial::new(
                ErrorCode::PayloadTooLarge,
                "body exceeds the size limit",
            ));
        }
        let (essence, params) = content_type
            .and_then(parse_params)
            .ok_or_else(|| unsupported("content type not accepted"))?;
        let (declared, range, filename) = if essence == "multipart/form-data" {
            let boundary = param(&params, "boundary")
                .filter(|b| boundary_ok(b))
                .ok_or_else(|| invalid("multipart body without a valid boundary"))?;
            let part = single_part(body, boundary, &self.field)?;
            let declared = part
                .content_type
                .as_deref()
                .and_then(parse_params)
                .map(|(e, _)| e)
                .unwrap_or_default();
            (declared, part.start..part.end, part.filename)
        } else {
            let name = param(&params, "name").map(str::to_owned);
            (essence, 0..body.len(), name)
        };
        let declared_type = FileType::from_mime(&declared)
            .filter(|t| self.types.contains(t))
            .ok_or_else(|| unsupported("file type not accepted on this route"))?;
        let file = &body[range.clone()];
        if file.is_empty() {
            return Err(invalid("the file is empty"));
        }
        if file.len() > self.max_bytes {
            return Err(Denial::new(
                ErrorCode::PayloadTooLarge,
                "file exceeds the size limit",
            ));
        }
        let detected = detect(file)
            .filter(|d| d.file_type == declared_type)
            .ok_or_else(|| unsupported("file content does not match its declared type"))?;
        if let Some((w, h)) = detected.dimensions {
            if u64::from(w) * u64::from(h) > self.max_pixels {
                return Err(Denial::new(
                    ErrorCode::PayloadTooLarge,
                    "image dimensions exceed the limit",
                ));
            }
        }
        let filename = sanitize_filename(filename.as_deref().unwrap_or(""), declared_type);
        let sha256 = Sha256::digest(file)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Upload {
            file_type: declared_type,
            filename,
            size: file.len(),
            offset: range.start,
            sha256,
            dimensions: detected.dimensions,
        })
    }
}

#[cfg(test)]
mod tests;
