//! The frame header codec (RFC 6455 section 5.2), from the server's side.
//!
//! Decoding reads client frames: they must be masked, carry no RSV bits (no extension
//! is negotiated) and use a known opcode; control frames must be final and at most 125
//! bytes. [`decode_header`] answers `Ok(None)` while the header is incomplete and
//! `Err(FrameError)` when it can never become valid, so the caller knows whether to wait
//! for bytes or to fail the connection. Payloads are not touched here: the connection
//! streams them through [`apply_mask`](super::apply_mask).
//!
//! Encoding writes server frames, which are never masked: [`encode_header`] appends a
//! header to a caller-owned buffer, and [`frame`] builds header and payload in a single
//! allocation so that one event can be cloned (a refcount) to every recipient.

use bytes::{BufMut, Bytes, BytesMut};

/// Largest payload of a control frame (close, ping, pong).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// Largest header a server writes: 2 bytes + a 64-bit length, no mask.
pub const MAX_SERVER_HEADER: usize = 10;

/// A frame opcode known to RFC 6455.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Opcode {
    /// `0x0`: the next fragment of a text or binary message.
    Continuation,
    /// `0x1`: the first (or only) frame of a UTF-8 text message.
    Text,
    /// `0x2`: the first (or only) frame of a binary message.
    Binary,
    /// `0x8`: the close handshake.
    Close,
    /// `0x9`: a ping; the peer answers with a pong carrying the same payload.
    Ping,
    /// `0xA`: a pong, solicited or not.
    Pong,
}

impl Opcode {
    /// The opcode for a 4-bit wire value, or `None` for the reserved values.
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0x0 => Some(Self::Continuation),
            0x1 => Some(Self::Text),
            0x2 => Some(Self::Binary),
            0x8 => Some(Self::Close),
            0x9 => Some(Self::Ping),
            0xA => Some(Self::Pong),
            _ => None,
        }
    }

    /// The 4-bit wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Continuation => 0x0,
            Self::Text => 0x1,
            Self::Binary => 0x2,
            Self::Close => 0x8,
            Self::Ping => 0x9,
            Self::Pong => 0xA,
        }
    }

    /// Close, ping and pong: they may interleave with a fragmented message.
    pub fn is_control(self) -> bool {
        matches!(self, Self::Close | Self::Ping | Self::Pong)
    }
}

/// A decoded client frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The FIN bit: this frame ends its message.
    pub fin: bool,
    /// What the frame carries.
    pub opcode: Opcode,
    /// The masking key (client frames are always masked).
    pub mask: [u8; 4],
    /// Payload length in bytes, as declared.
    pub payload_len: u64,
    /// Bytes the header took on the wire (2 to 14); the payload starts there.
    pub header_len: usize,
}

/// Why a client frame header is invalid. Every variant fails the connection with
/// [`FrameError::close_code`] (1002, protocol error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// An RSV bit is set, but no extension was negotiated.
    #[error("reserved bits set")]
    ReservedBits,
    /// The opcode is one of the reserved values (0x3-0x7, 0xB-0xF).
    #[error("reserved opcode")]
    ReservedOpcode,
    /// A client frame arrived without a mask.
    #[error("client frame not masked")]
    Unmasked,
    /// A control frame had FIN cleared.
    #[error("fragmented control frame")]
    FragmentedControl,
    /// A control frame declared more than 125 payload bytes.
    #[error("control frame too long")]
    ControlTooLong,
    /// A 64-bit length with its most significant bit set.
    #[error("invalid payload length")]
    LengthOverflow,
}

impl FrameError {
    /// The close code to fail the connection with.
    pub fn close_code(self) -> u16 {
        1002
    }

    /// A short static reason for the close frame and the logs.
    pub fn reason(self) -> &'static str {
        match self {
            Self::ReservedBits => "reserved bits set",
            Self::ReservedOpcode => "reserved opcode",
            Self::Unmasked => "client frame not masked",
            Self::FragmentedControl => "fragmented control frame",
            Self::ControlTooLong => "control frame too long",
            Self::LengthOverflow => "invalid payload length",
        }
    }
}

/// Decodes a client frame header from the start of `buf`.
///
/// `Ok(None)`: `buf` holds only part of a header; call again with more bytes.
/// Non-minimal length encodings (a 16-bit length below 126, ...) are accepted, as the
/// RFC's "MUST" binds the sender and rejecting them buys nothing.
pub fn decode_header(buf: &[u8]) -> Result<Option<FrameHeader>, FrameError> {
    let (Some(&b0), Some(&b1)) = (buf.first(), buf.get(1)) else {
        return Ok(None);
    };
    if b0 & 0x70 != 0 {
        return Err(FrameError::ReservedBits);
    }
    let opcode = Opcode::from_u8(b0 & 0x0f).ok_or(FrameError::ReservedOpcode)?;
    let fin = b0 & 0x80 != 0;
    if b1 & 0x80 == 0 {
        return Err(FrameError::Unmasked);
    }
    let len7 = b1 & 0x7f;
    if opcode.is_control() {
        if !fin {
            return Err(FrameError::FragmentedControl);
        }
        if usize::from(len7) > MAX_CONTROL_PAYLOAD {
            return Err(FrameError::ControlTooLong);
        }
    }
    let (payload_len, len_bytes) = match len7 {
        126 => {
            let Some(&[a, b]) = buf.get(2..4).and_then(|s| <&[u8; 2]>::try_from(s).ok()) else {
                return Ok(None);
            };
            (u64::from(u16::from_be_bytes([a, b])), 2)
        }
        127 => {
            let Some(raw) = buf.get(2..10).and_then(|s| <[u8; 8]>::try_from(s).ok()) else {
                return Ok(None);
            };
            let len = u64::from_be_bytes(raw);
            if len >> 63 != 0 {
                return Err(FrameError::LengthOverflow);
            }
            (len, 8)
        }
        short => (u64::from(short), 0),
    };
    let mask_at = 2 + len_bytes;
    let Some(mask) = buf
        .get(mask_at..mask_at + 4)
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
    else {
        return Ok(None);
    };
    Ok(Some(FrameHeader {
        fin,
        opcode,
        mask,
        payload_len,
        header_len: mask_at + 4,
    }))
}

/// Appends an unmasked (server) frame header to `out`, with the shortest length encoding.
pub fn encode_header(opcode: Opcode, fin: bool, len: u64, out: &mut impl BufMut) {
    let b0 = if fin { 0x80 } else { 0 } | opcode.as_u8();
    out.put_u8(b0);
    if len < 126 {
        // `len < 126` so the cast keeps every bit.
        out.put_u8(len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.put_u8(126);
        out.put_u16(short);
    } else {
        out.put_u8(127);
        out.put_u64(len);
    }
}

/// Builds a complete final server frame, header and payload in one allocation.
///
/// The gateway encodes a channel event once into such a `Bytes` and clones it (a
/// refcount, no copy) into every recipient's queue via
/// [`WsConn::send_frame`](super::WsConn::send_frame).
pub fn frame(opcode: Opcode, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(MAX_SERVER_HEADER + payload.len());
    encode_header(opcode, true, payload.len() as u64, &mut buf);
    buf.extend_from_slice(payload);
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ws::testutil::client_frame;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    #[test]
    fn opcode_table() {
        for (value, op) in [
            (0x0, Opcode::Continuation),
            (0x1, Opcode::Text),
            (0x2, Opcode::Binary),
            (0x8, Opcode::Close),
            (0x9, Opcode::Ping),
            (0xA, Opcode::Pong),
        ] {
            assert_eq!(Opcode::from_u8(value), Some(op));
            assert_eq!(op.as_u8(), value);
        }
        for reserved in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            assert_eq!(Opcode::from_u8(reserved), None);
        }
    }

    #[test]
    fn decodes_rfc_masked_hello() {
        // RFC 6455 section 5.7.
        let wire = [
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
        ];
        let h = decode_header(&wire).unwrap().unwrap();
        assert_eq!(
            h,
            FrameHeader {
                fin: true,
                opcode: Opcode::Text,
                mask: KEY,
                payload_len: 5,
                header_len: 6
            }
        );
    }

    #[test]
    fn every_header_prefix_is_incomplete() {
        for len in [0usize, 125, 126, 65535, 65536, 1 << 20] {
            let wire = client_frame(0x2, true, &vec![0; len], KEY);
            let h = decode_header(&wire).unwrap().unwrap();
            assert_eq!(h.payload_len, len as u64);
            for cut in 0..h.header_len {
                assert_eq!(decode_header(&wire[..cut]), Ok(None), "len {len} cut {cut}");
            }
        }
    }

    #[test]
    fn length_encodings() {
        let h = |wire: &[u8]| decode_header(wire).unwrap().unwrap();
        assert_eq!(h(&[0x82, 0xfd, 1, 2, 3, 4]).payload_len, 125);
        assert_eq!(h(&[0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4]).payload_len, 256);
        assert_eq!(h(&[0x82, 0xfe, 0x01, 0x00, 1, 2, 3, 4]).header_len, 8);
        let big = h(&[0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]);
        assert_eq!(big.payload_len, 1 << 32);
        assert_eq!(big.header_len, 14);
    }

    #[test]
    fn non_minimal_lengths_are_accepted() {
        let h = decode_header(&[0x82, 0xfe, 0x00, 0x05, 1, 2, 3, 4])
            .unwrap()
            .unwrap();
        assert_eq!(h.payload_len, 5);
        let h = decode_header(&[0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4])
            .unwrap()
            .unwrap();
        assert_eq!(h.payload_len, 5);
    }

    #[test]
    fn top_bit_of_64_bit_length_is_an_error() {
        let wire = [0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
        assert_eq!(decode_header(&wire), Err(FrameError::LengthOverflow));
    }

    #[test]
    fn reserved_bits_are_errors() {
        for rsv in [0x40, 0x20, 0x10] {
            assert_eq!(
                decode_header(&[0x81 | rsv, 0x80, 1, 2, 3, 4]),
                Err(FrameError::ReservedBits)
            );
        }
    }

    #[test]
    fn reserved_opcodes_are_errors() {
        for op in [3u8, 7, 0xB, 0xF] {
            assert_eq!(
                decode_header(&[0x80 | op, 0x80, 1, 2, 3, 4]),
                Err(FrameError::ReservedOpcode)
            );
        }
    }

    #[test]
    fn unmasked_client_frame_is_an_error() {
        assert_eq!(decode_header(&[0x81, 0x05]), Err(FrameError::Unmasked));
    }

    #[test]
    fn control_frame_rules() {
        // Ping without FIN.
        assert_eq!(
            decode_header(&[0x09, 0x80, 1, 2, 3, 4]),
            Err(FrameError::FragmentedControl)
        );
        // Ping with 126 bytes (16-bit length form).
        assert_eq!(
            decode_header(&[0x89, 0xfe, 0, 126, 1, 2, 3, 4]),
            Err(FrameError::ControlTooLong)
        );
        // Close with 125 bytes is fine.
        assert!(decode_header(&[0x88, 0xfd, 1, 2, 3, 4]).unwrap().is_some());
    }

    #[test]
    fn every_error_closes_with_1002() {
        for e in [
            FrameError::ReservedBits,
            FrameError::ReservedOpcode,
            FrameError::Unmasked,
            FrameError::FragmentedControl,
            FrameError::ControlTooLong,
            FrameError::LengthOverflow,
        ] {
            assert_eq!(e.close_code(), 1002);
            assert_eq!(e.reason(), e.to_string());
        }
    }

    #[test]
    fn encode_header_uses_shortest_form() {
        let enc = |len: u64| {
            let mut out = Vec::new();
            encode_header(Opcode::Binary, true, len, &mut out);
            out
        };
        assert_eq!(enc(0), [0x82, 0]);
        assert_eq!(enc(125), [0x82, 125]);
        assert_eq!(enc(126), [0x82, 126, 0, 126]);
        assert_eq!(enc(65535), [0x82, 126, 0xff, 0xff]);
        assert_eq!(enc(65536), [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
        let mut out = vec![0xaa];
        encode_header(Opcode::Continuation, false, 3, &mut out);
        assert_eq!(out, [0xaa, 0x00, 3], "appends, FIN clear");
    }

    #[test]
    fn frame_builds_one_unmasked_buffer() {
        let f = frame(Opcode::Text, b"Hello");
        assert_eq!(&f[..], &[0x81, 0x05, b'H', b'e', b'l', b'l', b'o']);
        let payload = vec![7u8; 200];
        let f = frame(Opcode::Binary, &payload);
        assert_eq!(&f[..4], &[0x82, 126, 0, 200]);
        assert_eq!(&f[4..], &payload[..]);
    }
}
