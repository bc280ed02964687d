//! Reassembly of one fragmented data message.
//!
//! A message is a first frame (text or binary) and zero or more continuation frames;
//! payload bytes arrive in pieces of any size. This type collects them, counts frames
//! and bytes against the limits, and validates text as it goes so that invalid UTF-8
//! fails the connection at the first impossible byte rather than at the end.

use bytes::{Bytes, BytesMut};

use super::super::utf8::{InvalidUtf8, Utf8Validator};

/// Cap on the capacity reserved up front from a declared length; the buffer grows
/// beyond it only as bytes actually arrive.
const MAX_PREALLOC: usize = 64 * 1024;

/// The kind of data message being reassembled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// UTF-8 text, validated incrementally.
    Text,
    /// Opaque bytes.
    Binary,
}

/// A data message whose final frame has not arrived yet.
#[derive(Debug)]
pub(crate) struct Message {
    kind: Kind,
    buf: BytesMut,
    /// Payload bytes received plus those declared by the frame in progress.
    committed: usize,
    frames: usize,
    utf8: Utf8Validator,
}

impl Message {
    /// Starts a message whose first frame declared `first_len` payload bytes.
    pub(crate) fn new(kind: Kind, first_len: usize) -> Self {
        Self {
            kind,
            buf: BytesMut::with_capacity(first_len.min(MAX_PREALLOC)),
            committed: first_len,
            frames: 1,
            utf8: Utf8Validator::new(),
        }
    }

    /// Counts a continuation frame declaring `len` bytes; returns the frame count and the
    /// size the message will have once that frame's payload has arrived.
    pub(crate) fn add_frame(&mut self, len: usize) -> (usize, usize) {
        self.frames += 1;
        self.committed = self.committed.saturating_add(len);
        (self.frames, self.committed)
    }

    /// Appends unmasked payload bytes, validating text.
    pub(crate) fn extend(&mut self, chunk: &[u8]) -> Result<(), InvalidUtf8> {
        if self.kind == Kind::Text {
            self.utf8.feed(chunk)?;
        }
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// Ends the message after its final frame: the complete payload.
    pub(crate) fn finish(mut self) -> Result<(Kind, Bytes), InvalidUtf8> {
        if self.kind == Kind::Text {
            self.utf8.finish()?;
        }
        Ok((self.kind, self.buf.freeze()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_and_counts() {
        let mut m = Message::new(Kind::Binary, 3);
        m.extend(b"abc").unwrap();
        assert_eq!(m.add_frame(2), (2, 5));
        m.extend(b"de").unwrap();
        assert_eq!(
            m.finish().unwrap(),
            (Kind::Binary, Bytes::from_static(b"abcde"))
        );
    }

    #[test]
    fn text_is_checked_across_pieces() {
        let mut m = Message::new(Kind::Text, 1);
        m.extend(&[0xe2]).unwrap();
        m.add_frame(2);
        m.extend(&[0x82, 0xac]).unwrap();
        assert_eq!(m.finish().unwrap().1, "€".as_bytes());

        let mut m = Message::new(Kind::Text, 1);
        m.extend(&[0xe2]).unwrap();
        assert_eq!(m.finish(), Err(InvalidUtf8));

        let mut m = Message::new(Kind::Text, 1);
        assert_eq!(m.extend(&[0xff]), Err(InvalidUtf8));
    }

    #[test]
    fn binary_is_not_checked() {
        let mut m = Message::new(Kind::Binary, 1);
        m.extend(&[0xff]).unwrap();
        assert!(m.finish().is_ok());
    }

    #[test]
    fn huge_declared_length_does_not_preallocate() {
        let m = Message::new(Kind::Binary, usize::MAX);
        assert!(m.buf.capacity() <= MAX_PREALLOC);
    }
}
