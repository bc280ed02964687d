//! Reading structured fuzz input from raw bytes, and writing it back for seeds.
//!
//! The targets decode their inputs with a hand-written layout (a tag byte, then the
//! fields) rather than `arbitrary`: the layout has an inverse ([`Writer`]), so the seed
//! corpus is written as meaningful operations (a valid IDENTIFY, a fragmented message)
//! and libFuzzer mutates from there. Reading never fails: past the end every field
//! reads as zero or empty, so every byte string is a valid input.

/// A cursor over fuzz input that never fails.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    /// Whether every byte has been read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte, 0 past the end.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next bit of a byte: whether it is odd.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A big-endian u16 (missing bytes read as 0).
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// A big-endian u32 (missing bytes read as 0).
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// `Some(u32)` after a set flag byte, `None` after a clear one.
    pub fn opt_u32(&mut self) -> Option<u32> {
        self.bool().then(|| self.u32())
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        head
    }

    /// Bytes prefixed by a one-byte length.
    pub fn short_bytes(&mut self) -> &'a [u8] {
        let n = usize::from(self.u8());
        self.bytes(n)
    }

    /// Bytes prefixed by a two-byte length.
    pub fn long_bytes(&mut self) -> &'a [u8] {
        let n = usize::from(self.u16());
        self.bytes(n)
    }

    /// Everything not read yet.
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

/// Writes what [`Reader`] reads, for building seeds.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    /// The bytes written so far.
    pub out: Vec<u8>,
}

impl Writer {
    /// Writes one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.out.push(v);
        self
    }

    /// Writes a flag byte.
    pub fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }

    /// Writes a big-endian u16.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Writes a big-endian u32.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.out.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Writes an optional u32 as a flag byte and the value.
    pub fn opt_u32(&mut self, v: Option<u32>) -> &mut Self {
        match v {
            Some(v) => self.bool(true).u32(v),
            None => self.bool(false),
        }
    }

    /// Writes bytes with a one-byte length; longer input is cut to 255 bytes.
    pub fn short_bytes(&mut self, v: &[u8]) -> &mut Self {
        let v = &v[..v.len().min(255)];
        self.u8(v.len() as u8);
        self.out.extend_from_slice(v);
        self
    }

    /// Writes bytes with a two-byte length; longer input is cut to 65 535 bytes.
    pub fn long_bytes(&mut self, v: &[u8]) -> &mut Self {
        let v = &v[..v.len().min(usize::from(u16::MAX))];
        self.u16(v.len() as u16);
        self.out.extend_from_slice(v);
        self
    }

    /// Writes bytes as they are (for a trailing "rest of the input").
    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.out.extend_from_slice(v);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_and_reader_agree() {
        let mut w = Writer::default();
        w.u8(7)
            .bool(true)
            .u16(513)
            .u32(70_000)
            .opt_u32(None)
            .opt_u32(Some(9))
            .short_bytes(b"abc")
            .long_bytes(b"de")
            .raw(b"tail");
        let mut r = Reader::new(&w.out);
        assert_eq!(r.u8(), 7);
        assert!(r.bool());
        assert_eq!(r.u16(), 513);
        assert_eq!(r.u32(), 70_000);
        assert_eq!(r.opt_u32(), None);
        assert_eq!(r.opt_u32(), Some(9));
        assert_eq!(r.short_bytes(), b"abc");
        assert_eq!(r.long_bytes(), b"de");
        assert_eq!(r.rest(), b"tail");
    }

    #[test]
    fn reading_past_the_end_gives_zeros() {
        let mut r = Reader::new(&[1]);
        assert_eq!(r.u16(), 256);
        assert_eq!(r.u32(), 0);
        assert_eq!(r.short_bytes(), b"");
        assert!(r.is_empty());
    }
}
