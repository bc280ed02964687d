//! WebSocket frames as the harnesses need them, written independently of the gateway.
//!
//! [`client_frame`] builds masked client frames (any first byte, so reserved bits and
//! opcodes too) for seeds and for the session target. [`parse_server_frame`] checks
//! what the gateway writes: exactly one complete, final, unmasked frame per chunk, with
//! the shortest length encoding, a known opcode, and control payloads of at most 125
//! bytes. It is deliberately not `gateway::core::ws::frame`, so that a bug there cannot
//! hide itself.

/// Opcode of a continuation frame.
pub const CONTINUATION: u8 = 0x0;
/// Opcode of a text frame.
pub const TEXT: u8 = 0x1;
/// Opcode of a binary frame.
pub const BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const PONG: u8 = 0xA;

/// The masking key seeds use (the one of RFC 6455 section 5.7).
pub const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// Appends a masked client frame: `first` is the first header byte as sent (FIN, RSV
/// bits, opcode), the length takes its shortest form.
pub fn client_frame(first: u8, mask: [u8; 4], payload: &[u8], out: &mut Vec<u8>) {
    out.push(first);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if let Ok(short) = u16::try_from(len) {
        out.push(0x80 | 126);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
}

/// A final masked frame with the seed mask.
pub fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    client_frame(0x80 | opcode, MASK, payload, &mut out);
    out
}

/// A close payload: the code, then the reason.
pub fn close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason.as_bytes());
    p
}

/// One frame the server wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFrame {
    /// The opcode (always final: the server never fragments).
    pub opcode: u8,
    /// The payload.
    pub payload: Vec<u8>,
}

impl ServerFrame {
    /// For a close frame: the status code, `None` for an empty payload, `Err` for a
    /// one-byte payload or a reason that is not UTF-8.
    pub fn close_code(&self) -> Result<Option<u16>, String> {
        match self.payload.as_slice() {
            [] => Ok(None),
            [_] => Err("close payload of one byte".into()),
            [hi, lo, reason @ ..] => {
                std::str::from_utf8(reason).map_err(|e| format!("close reason: {e}"))?;
                Ok(Some(u16::from_be_bytes([*hi, *lo])))
            }
        }
    }
}

/// Parses `chunk` as exactly one server frame (what `poll_transmit` returns).
pub fn parse_server_frame(chunk: &[u8]) -> Result<ServerFrame, String> {
    let (frame, used) = parse_one(chunk)?;
    if used != chunk.len() {
        return Err(format!("{} bytes after the frame", chunk.len() - used));
    }
    Ok(frame)
}

/// Parses a byte stream the server wrote into frames; trailing partial frames are an
/// error.
pub fn parse_server_frames(mut bytes: &[u8]) -> Result<Vec<ServerFrame>, String> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let (frame, used) = parse_one(bytes)?;
        frames.push(frame);
        bytes = &bytes[used..];
    }
    Ok(frames)
}

fn parse_one(buf: &[u8]) -> Result<(ServerFrame, usize), String> {
    let (&b0, &b1) = match buf {
        [b0, b1, ..] => (b0, b1),
        _ => return Err(format!("partial header: {buf:?}")),
    };
    if b0 & 0x80 == 0 {
        return Err("server frame without FIN".into());
    }
    if b0 & 0x70 != 0 {
        return Err("server frame with RSV bits".into());
    }
    let opcode = b0 & 0x0f;
    if ![TEXT, BINARY, CLOSE, PING, PONG].contains(&opcode) {
        return Err(format!("server frame with opcode {opcode:#x}"));
    }
    if b1 & 0x80 != 0 {
        return Err("masked server frame".into());
    }
    let (len, header) = match b1 & 0x7f {
        126 => {
            let raw = buf.get(2..4).ok_or("partial 16-bit length")?;
            let len = u64::from(u16::from_be_bytes([raw[0], raw[1]]));
            if len < 126 {
                return Err("16-bit length below 126".into());
            }
            (len, 4)
        }
        127 => {
            let raw: [u8; 8] = buf
                .get(2..10)
                .and_then(|s| s.try_into().ok())
                .ok_or("partial 64-bit length")?;
            let len = u64::from_be_bytes(raw);
            if len <= u64::from(u16::MAX) {
                return Err("64-bit length below 65536".into());
            }
            (len, 10)
        }
        n => (u64::from(n), 2),
    };
    if opcode >= CLOSE && len > 125 {
        return Err(format!("control frame of {len} bytes"));
    }
    let len = usize::try_from(len).map_err(|_| "length over usize")?;
    let end = header + len;
    let payload = buf.get(header..end).ok_or("partial payload")?;
    let frame = ServerFrame {
        opcode,
        payload: payload.to_vec(),
    };
    Ok((frame, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_masked_hello() {
        // RFC 6455 section 5.7.
        assert_eq!(
            masked(TEXT, b"Hello"),
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
    }

    #[test]
    fn long_lengths() {
        let f = masked(BINARY, &[0; 300]);
        assert_eq!(&f[..4], &[0x82, 0xfe, 0x01, 0x2c]);
        let f = masked(BINARY, &[0; 70_000]);
        assert_eq!(&f[..10], &[0x82, 0xff, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
    }

    #[test]
    fn parses_what_the_gateway_writes() {
        let f = parse_server_frame(&[0x81, 0x02, b'h', b'i']).unwrap();
        assert_eq!(f.opcode, TEXT);
        assert_eq!(f.payload, b"hi");
        let close = parse_server_frame(&[0x88, 0x02, 0x03, 0xe8]).unwrap();
        assert_eq!(close.close_code(), Ok(Some(1000)));
        let frames = parse_server_frames(&[0x8a, 0x00, 0x88, 0x00]).unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].close_code(), Ok(None));
    }

    #[test]
    fn rejects_what_the_gateway_must_not_write() {
        for bad in [
            &[0x01, 0x00][..],                        // no FIN
            &[0xc1, 0x00],                            // RSV1
            &[0x83, 0x00],                            // reserved opcode
            &[0x81, 0x80, 1, 2, 3, 4],                // masked
            &[0x81, 0x7e, 0x00, 0x05, 1, 2, 3, 4, 5], // non-minimal length
            &[0x81, 0x05, b'h'],                      // partial payload
            &[0x81, 0x00, 0x00],                      // trailing byte
        ] {
            assert!(parse_server_frame(bad).is_err(), "{bad:?}");
        }
        let one_byte_close = ServerFrame {
            opcode: CLOSE,
            payload: vec![3],
        };
        assert!(one_byte_close.close_code().is_err());
    }
}
