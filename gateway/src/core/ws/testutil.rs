//! Test helpers: build masked client frames byte by byte, as a client would send them.
//!
//! Written independently of the server encoder on purpose, so that a bug in
//! `encode_header` cannot hide the same bug in the decoder.

/// A masked client frame: `opcode` is the raw 4-bit value (reserved ones too).
pub(crate) fn client_frame(opcode: u8, fin: bool, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    client_frame_raw(if fin { 0x80 } else { 0 } | opcode, payload, key)
}

/// A masked client frame with the first byte given as is (FIN, RSV bits, opcode).
pub(crate) fn client_frame_raw(b0: u8, payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut out = vec![b0];
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    out
}

/// A masked close frame with an optional code and a reason.
pub(crate) fn client_close(code: Option<u16>, reason: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    if let Some(code) = code {
        payload.extend_from_slice(&code.to_be_bytes());
    }
    payload.extend_from_slice(reason);
    client_frame(0x8, true, &payload, [9, 8, 7, 6])
}
