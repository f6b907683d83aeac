//! CRC-32 (IEEE 802.3, reflected: zlib's and PNG's), for API key checksums
//! (`api_keys`) and PNG chunk checks (`upload`). Not a security primitive:
//! it catches typos and corruption, never forgery.
//!
//! Slice-by-4: four 1 KiB tables built at compile time, one step per four
//! bytes. `crc32fast`'s slice-by-16 tables took 16 KiB of the pipeline
//! module's data, nearly all of it incompressible; slice-by-4 checks a
//! 2 MiB PNG's chunks in 1.45 ms natively against 0.56 ms for `crc32fast`'s
//! portable path, the one wasm gets (BENCHMARKS.md, "Cold start and footprint").

const fn tables() -> [[u32; 256]; 4] {
    let mut t = [[0u32; 256]; 4];
    let mut i = 0;
    while i < 256 {
        // `i < 256`: the cast is exact.
        let mut c = i as u32;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            bit += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut k = 1;
    while k < 4 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

const TABLES: [[u32; 256]; 4] = tables();

/// The CRC-32 of `bytes`.
pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(bytes);
    c.finalize()
}

/// A running CRC-32 (for input that comes in pieces).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Crc32(u32);

impl Crc32 {
    /// The CRC of no bytes so far.
    pub(crate) fn new() -> Self {
        Crc32(!0)
    }

    /// Adds `bytes`.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let [t0, t1, t2, t3] = &TABLES;
        let mut c = self.0;
        let mut words = bytes.chunks_exact(4);
        for w in &mut words {
            let [a, b, d, e] = (c ^ u32::from_le_bytes([w[0], w[1], w[2], w[3]])).to_le_bytes();
            c = t3[usize::from(a)] ^ t2[usize::from(b)] ^ t1[usize::from(d)] ^ t0[usize::from(e)];
        }
        for &b in words.remainder() {
            c = t0[usize::from(c.to_le_bytes()[0] ^ b)] ^ (c >> 8);
        }
        self.0 = c;
    }

    /// The CRC of every byte added.
    pub(crate) fn finalize(self) -> u32 {
        !self.0
    }
}

#[cfg(test)]
mod tests {
    use super::{crc32, Crc32};

    #[test]
    fn known_values() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn matches_crc32fast_at_every_length_and_split() {
        let data: Vec<u8> = (0..600u32).map(|i| u8::try_from((i * 7919 + 13) % 251).unwrap()).collect();
        for len in 0..data.len() {
            let d = &data[..len];
            assert_eq!(crc32(d), crc32fast::hash(d), "length {len}");
            let mut c = Crc32::new();
            let (a, b) = d.split_at(len / 3);
            c.update(a);
            c.update(b);
            assert_eq!(c.finalize(), crc32fast::hash(d), "split at {}", len / 3);
        }
    }
}
