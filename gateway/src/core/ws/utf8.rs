//! Incremental UTF-8 validation for text messages.
//!
//! A text message arrives in fragments, and each fragment in pieces; a code point may be
//! cut anywhere. RFC 6455 asks to fail the connection as soon as the bytes *cannot* be
//! UTF-8 (Autobahn section 6.4 checks that we fail fast), while a code point truncated at a
//! piece boundary is fine until the message ends. The bulk of the work is done by
//! `std::str::from_utf8`, which already tells "truncated" (`error_len() == None`) apart
//! from "invalid"; this type only carries up to three bytes of an unfinished code point
//! from one piece to the next.

/// The bytes seen so far are not UTF-8, and no continuation can make them so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

/// Validates a byte stream fed in arbitrary pieces.
#[derive(Debug, Default, Clone)]
pub(crate) struct Utf8Validator {
    /// The start of a code point cut off at the end of the previous piece (a valid prefix).
    pending: [u8; 4],
    pending_len: usize,
}

impl Utf8Validator {
    /// A validator at the start of a message.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Checks the next piece of the stream.
    pub(crate) fn feed(&mut self, mut input: &[u8]) -> Result<(), InvalidUtf8> {
        // First finish the code point left over from the previous piece, byte by byte
        // (at most three bytes, so this is cheap).
        while self.pending_len > 0 {
            let Some((&byte, rest)) = input.split_first() else {
                return Ok(());
            };
            // A valid prefix is at most 3 bytes, so the slot exists; were it not, the
            // bytes could not be UTF-8 anyway.
            let slot = self.pending.get_mut(self.pending_len).ok_or(InvalidUtf8)?;
            *slot = byte;
            self.pending_len += 1;
            input = rest;
            let pending = self.pending.get(..self.pending_len).ok_or(InvalidUtf8)?;
            match std::str::from_utf8(pending) {
                Ok(_) => self.pending_len = 0,
                Err(e) if e.error_len().is_some() => return Err(InvalidUtf8),
                Err(_) => {} // still a valid prefix: need more bytes
            }
        }
        match std::str::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(InvalidUtf8),
            Err(e) => {
                // A valid but truncated code point at the end: keep it for the next piece.
                let tail = input.get(e.valid_up_to()..).unwrap_or_default();
                let slot = self.pending.get_mut(..tail.len()).ok_or(InvalidUtf8)?;
                slot.copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
        }
    }

    /// Ends the stream: a code point still unfinished is invalid.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.pending_len == 0;
        *self = Self::new();
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn validate_in_pieces(data: &[u8], cuts: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::new();
        let mut start = 0;
        for &cut in cuts {
            let cut = cut.clamp(start, data.len());
            v.feed(&data[start..cut])?;
            start = cut;
        }
        v.feed(&data[start..])?;
        v.finish()
    }

    #[test]
    fn valid_text_in_one_piece() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed("κόσμε €𝄞".as_bytes()), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    #[test]
    fn code_point_cut_at_every_position_is_fine() {
        let text = "a€𝄞b".as_bytes();
        for cut in 0..=text.len() {
            assert_eq!(validate_in_pieces(text, &[cut]), Ok(()), "cut at {cut}");
        }
    }

    #[test]
    fn truncated_at_end_of_message_is_invalid() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[b'a', 0xe2, 0x82]), Ok(()));
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }

    #[test]
    fn fails_fast_on_impossible_prefix() {
        // 0xF4 0x90 would be above U+10FFFF: invalid before the code point is complete.
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xf4]), Ok(()));
        assert_eq!(v.feed(&[0x90]), Err(InvalidUtf8));
    }

    #[test]
    fn rejects_surrogates_overlongs_and_stray_bytes() {
        for bad in [
            &[0xed, 0xa0, 0x80][..], // U+D800
            &[0xc0, 0xaf],           // overlong '/'
            &[0x80],                 // stray continuation
            &[0xff],
        ] {
            let mut v = Utf8Validator::new();
            assert_eq!(v.feed(bad), Err(InvalidUtf8), "{bad:x?}");
        }
    }

    #[test]
    fn finish_resets_for_the_next_message() {
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(&[0xe2]), Ok(()));
        assert_eq!(v.finish(), Err(InvalidUtf8));
        assert_eq!(v.feed(b"ok"), Ok(()));
        assert_eq!(v.finish(), Ok(()));
    }

    proptest! {
        #[test]
        fn agrees_with_std_for_any_split(
            data in proptest::collection::vec(any::<u8>(), 0..64),
            cuts in proptest::collection::vec(0usize..64, 0..6),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            let expected = std::str::from_utf8(&data).is_ok();
            prop_assert_eq!(validate_in_pieces(&data, &cuts).is_ok(), expected);
        }

        #[test]
        fn valid_strings_pass_for_any_split(
            text in "\\PC{0,40}",
            cuts in proptest::collection::vec(0usize..160, 0..6),
        ) {
            let mut cuts = cuts;
            cuts.sort_unstable();
            prop_assert_eq!(validate_in_pieces(text.as_bytes(), &cuts), Ok(()));
        }
    }
}
