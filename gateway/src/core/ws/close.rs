//! Close frame payloads (RFC 6455 sections 5.5.1 and 7.4).
//!
//! A close payload is empty, or a 2-byte status code followed by a UTF-8 reason. Which
//! codes may appear on the wire is fixed by the RFC and the IANA registry; a peer that
//! sends anything else has broken the protocol.

use bytes::BufMut;

use super::frame::MAX_CONTROL_PAYLOAD;

/// Whether `code` may be sent in a close frame.
///
/// Valid: 1000-1003, 1007-1014 (RFC 6455 and the IANA registry), 3000-4999 (registered
/// and private use, which carries the Layer4 4xxx codes). Invalid: below 1000, 1004-1006
/// and 1015 (reserved, never on the wire), 1016-2999 (unassigned), 5000 and above.
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// A close payload that breaks the protocol: the close code to answer with, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BadClose {
    /// 1002 (protocol error) or 1007 (reason not UTF-8).
    pub(crate) code: u16,
    /// A short reason for the answering close frame.
    pub(crate) reason: &'static str,
}

/// Parses a received close payload into `(code, reason)`; no code when it is empty.
pub(crate) fn parse_close_payload(payload: &[u8]) -> Result<(Option<u16>, String), BadClose> {
    match payload {
        [] => Ok((None, String::new())),
        [_] => Err(BadClose {
            code: 1002,
            reason: "close payload of one byte",
        }),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_close_code(code) {
                return Err(BadClose {
                    code: 1002,
                    reason: "invalid close code",
                });
            }
            let reason = std::str::from_utf8(reason).map_err(|_| BadClose {
                code: 1007,
                reason: "close reason not UTF-8",
            })?;
            Ok((Some(code), reason.to_owned()))
        }
    }
}

/// Appends a close payload (`code` then `reason`) to `out`, cutting the reason at a
/// character boundary so the payload fits a control frame (125 bytes).
pub(crate) fn put_close_payload(code: u16, reason: &str, out: &mut impl BufMut) {
    out.put_u16(code);
    out.put_slice(truncate_reason(reason).as_bytes());
}

/// The longest prefix of `reason` that fits a close frame beside the 2-byte code.
fn truncate_reason(reason: &str) -> &str {
    let max = MAX_CONTROL_PAYLOAD - 2;
    if reason.len() <= max {
        return reason;
    }
    let mut end = max;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_code_table() {
        for valid in [
            1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
            4000, 4009, 4999,
        ] {
            assert!(is_valid_close_code(valid), "{valid}");
        }
        for invalid in [
            0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
        ] {
            assert!(!is_valid_close_code(invalid), "{invalid}");
        }
    }

    #[test]
    fn empty_payload_has_no_code() {
        assert_eq!(parse_close_payload(&[]), Ok((None, String::new())));
    }

    #[test]
    fn one_byte_payload_is_1002() {
        assert_eq!(parse_close_payload(&[0x03]).unwrap_err().code, 1002);
    }

    #[test]
    fn code_and_reason() {
        let mut p = 1000u16.to_be_bytes().to_vec();
        p.extend_from_slice("bye ☺".as_bytes());
        assert_eq!(
            parse_close_payload(&p),
            Ok((Some(1000), "bye ☺".to_owned()))
        );
    }

    #[test]
    fn invalid_code_is_1002() {
        for code in [999u16, 1005, 1015, 2000, 5000] {
            let err = parse_close_payload(&code.to_be_bytes()).unwrap_err();
            assert_eq!(err.code, 1002, "{code}");
        }
    }

    #[test]
    fn reason_not_utf8_is_1007() {
        let err = parse_close_payload(&[0x03, 0xe8, 0xff, 0xfe]).unwrap_err();
        assert_eq!(err.code, 1007);
    }

    #[test]
    fn long_reason_is_cut_at_a_char_boundary() {
        let reason = "é".repeat(100); // 200 bytes
        let mut out = Vec::new();
        put_close_payload(4000, &reason, &mut out);
        assert!(out.len() <= MAX_CONTROL_PAYLOAD);
        assert_eq!(&out[..2], &4000u16.to_be_bytes());
        let (code, text) = parse_close_payload(&out).unwrap();
        assert_eq!(code, Some(4000));
        assert_eq!(text.len(), 122);
    }
}
