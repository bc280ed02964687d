//! The server's side of the opening handshake: the 101 that upgrades, and the plain
//! HTTP answers that refuse (400 with a one-line reason, 431, 404).
//!
//! Everything is appended to a buffer the caller owns; the driver writes it and, for a
//! refusal, closes the connection (`Connection: close` is always sent with one).

use std::io::Write;

use base64::Engine;
use sha1::{Digest, Sha1};

/// The GUID that RFC 6455 appends to the client's key before hashing.
const WS_GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(WS_GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// Appends the `101 Switching Protocols` answer for `key` to `out`.
pub fn write_accept(key: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\n\
          Upgrade: websocket\r\n\
          Connection: Upgrade\r\n\
          Sec-WebSocket-Accept: ",
    );
    out.extend_from_slice(accept_key(key).as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

/// Appends a refusal to `out`: `status`, `extra_headers`, `Connection: close`, and
/// `reason` as a one-line `text/plain` body.
///
/// CR and LF in `reason` or in header values are replaced by spaces, so that neither can
/// break the response apart.
pub fn write_reject(status: u16, reason: &str, extra_headers: &[(&str, &str)], out: &mut Vec<u8>) {
    let body = format!("{}\n", one_line(reason));
    // Writing into a Vec cannot fail.
    let _ = write!(
        out,
        "HTTP/1.1 {status} {}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Connection: close\r\n",
        reason_phrase(status),
        body.len()
    );
    for (name, value) in extra_headers {
        let _ = write!(out, "{}: {}\r\n", one_line(name), one_line(value));
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body.as_bytes());
}

/// Appends a `404 Not Found` for a path the server does not serve.
pub fn write_not_found(out: &mut Vec<u8>) {
    write_reject(404, "not found", &[], out);
}

fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// The reason phrase for the statuses a WebSocket endpoint answers with.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_matches_rfc_example() {
        // RFC 6455 section 1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn accept_response() {
        let mut out = b"prefix".to_vec();
        write_accept("dGhlIHNhbXBsZSBub25jZQ==", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "prefixHTTP/1.1 101 Switching Protocols\r\n\
             Upgrade: websocket\r\n\
             Connection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        );
    }

    #[test]
    fn reject_response_has_length_close_and_one_line_body() {
        let mut out = Vec::new();
        write_reject(400, "bad v\r\nX-Evil: 1", &[("X-A", "b\nc")], &mut out);
        let text = String::from_utf8(out).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert_eq!(body, "bad v  X-Evil: 1\n");
        let lines: Vec<&str> = head.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "HTTP/1.1 400 Bad Request",
                "Content-Type: text/plain; charset=utf-8",
                &format!("Content-Length: {}", body.len()),
                "Connection: close",
                "X-A: b c",
            ]
        );
    }

    #[test]
    fn not_found_and_431() {
        let mut out = Vec::new();
        write_not_found(&mut out);
        assert!(out.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
        let mut out = Vec::new();
        write_reject(431, "too large", &[], &mut out);
        assert!(out.starts_with(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"));
    }
}
