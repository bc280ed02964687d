//! `handshake`: arbitrary bytes into [`parse_request`], the HTTP/1.1 upgrade parser.
//!
//! Input: `[limit selector][buffer...]`.
//!
//! Checks: nothing panics; `Ok(None)` only while the buffer is under the head limit;
//! `Ok(Some)` consumed at most the buffer and the limit, the head alone (without what
//! follows it) parses to the same request, and one byte less is still incomplete (or
//! over the limit); the key is usable (`write_accept`); every error writes a 400 or 431
//! answer.

use gateway::core::ws::{accept_key, parse_request, write_accept, HandshakeError};

use crate::input::Reader;

/// Runs one input.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let max = [64, 512, 8192, usize::MAX][usize::from(r.u8() & 3)];
    let buf = r.rest();
    match parse_request(buf, max) {
        Ok(None) => assert!(buf.len() < max, "incomplete at {} >= {max}", buf.len()),
        Ok(Some(req)) => {
            assert!(
                req.consumed <= buf.len(),
                "consumed {} of {}",
                req.consumed,
                buf.len()
            );
            assert!(req.consumed <= max, "consumed {} over {max}", req.consumed);
            assert!(req.path.starts_with('/'), "path {:?}", req.path);
            let head = &buf[..req.consumed];
            assert_eq!(
                parse_request(head, max),
                Ok(Some(req.clone())),
                "the head alone parses differently"
            );
            let shorter = parse_request(&head[..head.len() - 1], max);
            assert!(
                matches!(shorter, Ok(None) | Err(HandshakeError::HeadersTooLarge)),
                "one byte short of the head: {shorter:?}"
            );
            assert_eq!(accept_key(&req.key).len(), 28, "SHA-1 in base64");
            let mut out = Vec::new();
            write_accept(&req.key, &mut out);
            assert!(out.starts_with(b"HTTP/1.1 101 "));
            assert!(out.ends_with(b"\r\n\r\n"));
        }
        Err(e) => {
            let mut out = Vec::new();
            e.write_response(&mut out);
            let status = format!("HTTP/1.1 {} ", e.status());
            assert!(out.starts_with(status.as_bytes()), "{e:?}");
            assert!(matches!(e.status(), 400 | 431));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_request_with_trailing_frame() {
        let mut data = vec![2];
        data.extend_from_slice(
            b"GET /gateway?v=1&encoding=json HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
              Sec-WebSocket-Version: 13\r\n\r\n\x81\x80\x01\x02\x03\x04",
        );
        run(&data);
    }

    #[test]
    fn garbage_and_partial_heads() {
        run(&[0, b'G', b'E']);
        run(&[1, 0xff, b'\r', b'\n']);
        run(&[0; 100]);
    }
}
