//! The opening handshake: reading the client's HTTP/1.1 upgrade request (RFC 6455 4.2.1).
//!
//! [`parse_request`] reads a byte buffer with `httparse` and tells three outcomes apart:
//! `Ok(None)` (the head is not complete yet: read more), `Ok(Some(request))`, and
//! `Err(HandshakeError)`, which knows its HTTP status (400, or 431 when the head is larger
//! than allowed) and a one-line reason for the plain-text body. The answers are written by
//! the functions in [`response`](super::response). Routing (which path) and the meaning of
//! the query (`v`, `encoding`) belong to the caller.

use base64::Engine;

use super::query::parse_query;

/// Most headers a request may carry; more is answered like an oversized head (431).
const MAX_HEADERS: usize = 64;

/// A valid WebSocket upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeRequest {
    /// The path of the request target, without the query (`/gateway`), not decoded.
    pub path: String,
    /// The query pairs in order, percent-decoded (`+` is a space).
    pub query: Vec<(String, String)>,
    /// `Sec-WebSocket-Key`, as sent (base64 of 16 bytes).
    pub key: String,
    /// The `Host` header.
    pub host: String,
    /// The `Origin` header, sent by browsers.
    pub origin: Option<String>,
    /// `X-Forwarded-For`, set by a load balancer in front of the gateway.
    pub forwarded_for: Option<String>,
    /// `User-Agent`, for logs.
    pub user_agent: Option<String>,
    /// Bytes of the buffer the request head took. Anything after it is already
    /// WebSocket data (a client may send frames right behind the request).
    pub consumed: usize,
}

impl UpgradeRequest {
    /// The first value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why an upgrade request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The request head (or its header count) is over the configured limit: 431.
    #[error("request header fields too large")]
    HeadersTooLarge,
    /// Not parseable as an HTTP/1.x request.
    #[error("malformed HTTP request")]
    Malformed,
    /// HTTP/1.0 or another version: WebSocket needs HTTP/1.1.
    #[error("HTTP/1.1 required")]
    UnsupportedHttpVersion,
    /// The method is not GET.
    #[error("method must be GET")]
    MethodNotGet,
    /// The request target is not an absolute path (`/...`).
    #[error("request target must be a path")]
    BadTarget,
    /// No `Host` header.
    #[error("missing Host header")]
    MissingHost,
    /// No `Upgrade: websocket`.
    #[error("missing Upgrade: websocket")]
    NotWebSocket,
    /// `Connection` lacks the `upgrade` token.
    #[error("missing Connection: upgrade")]
    NotUpgrade,
    /// `Sec-WebSocket-Version` is absent or not 13.
    #[error("unsupported Sec-WebSocket-Version (13 required)")]
    UnsupportedVersion,
    /// `Sec-WebSocket-Key` is absent, repeated, or not base64 of 16 bytes.
    #[error("invalid Sec-WebSocket-Key")]
    BadKey,
}

impl HandshakeError {
    /// The HTTP status to answer with: 431 for an oversized head, 400 for the rest.
    pub fn status(self) -> u16 {
        match self {
            Self::HeadersTooLarge => 431,
            _ => 400,
        }
    }

    /// Extra response headers the RFC asks for (`Sec-WebSocket-Version: 13` when the
    /// version is not supported).
    pub fn extra_headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::UnsupportedVersion => &[("Sec-WebSocket-Version", "13")],
            _ => &[],
        }
    }

    /// Appends the complete HTTP answer (status, headers, one-line body) to `out`.
    pub fn write_response(self, out: &mut Vec<u8>) {
        super::response::write_reject(self.status(), &self.to_string(), self.extra_headers(), out);
    }
}

/// Parses an upgrade request from the start of `buf`.
///
/// `max_head_bytes` bounds the request head: when the head is not complete within that
/// many bytes, the answer is [`HandshakeError::HeadersTooLarge`] rather than `Ok(None)`,
/// so the caller never buffers more than that.
pub fn parse_request(
    buf: &[u8],
    max_head_bytes: usize,
) -> Result<Option<UpgradeRequest>, HandshakeError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let consumed = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return if buf.len() >= max_head_bytes {
                Err(HandshakeError::HeadersTooLarge)
            } else {
                Ok(None)
            };
        }
        Err(httparse::Error::TooManyHeaders) => return Err(HandshakeError::HeadersTooLarge),
        Err(_) => return Err(HandshakeError::Malformed),
    };
    if consumed > max_head_bytes {
        return Err(HandshakeError::HeadersTooLarge);
    }
    if req.version != Some(1) {
        return Err(HandshakeError::UnsupportedHttpVersion);
    }
    if req.method != Some("GET") {
        return Err(HandshakeError::MethodNotGet);
    }
    let target = req.path.unwrap_or_default();
    if !target.starts_with('/') {
        return Err(HandshakeError::BadTarget);
    }
    let (path, raw_query) = target.split_once('?').unwrap_or((target, ""));
    // A fragment never belongs in a request target; drop it if a client sends one.
    let raw_query = raw_query.split('#').next().unwrap_or_default();

    let headers = req.headers;
    let host = single(headers, "host").ok_or(HandshakeError::MissingHost)?;
    if !has_token(headers, "upgrade", "websocket") {
        return Err(HandshakeError::NotWebSocket);
    }
    if !has_token(headers, "connection", "upgrade") {
        return Err(HandshakeError::NotUpgrade);
    }
    if single(headers, "sec-websocket-version").map(str::trim) != Some("13") {
        return Err(HandshakeError::UnsupportedVersion);
    }
    let key = single(headers, "sec-websocket-key")
        .map(str::trim)
        .filter(|k| is_valid_key(k))
        .ok_or(HandshakeError::BadKey)?;

    Ok(Some(UpgradeRequest {
        path: path.to_owned(),
        query: parse_query(raw_query),
        key: key.to_owned(),
        host: host.trim().to_owned(),
        origin: single(headers, "origin").map(|v| v.trim().to_owned()),
        forwarded_for: single(headers, "x-forwarded-for").map(|v| v.trim().to_owned()),
        user_agent: single(headers, "user-agent").map(|v| v.trim().to_owned()),
        consumed,
    }))
}

/// The value of header `name` when it appears exactly once and is text.
fn single<'a>(headers: &[httparse::Header<'a>], name: &str) -> Option<&'a str> {
    let mut found = headers.iter().filter(|h| h.name.eq_ignore_ascii_case(name));
    let first = found.next()?;
    if found.next().is_some() {
        return None;
    }
    std::str::from_utf8(first.value).ok()
}

/// Whether any `name` header lists `token` (comma-separated, case-insensitive).
fn has_token(headers: &[httparse::Header<'_>], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .filter_map(|h| std::str::from_utf8(h.value).ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// A key is the base64 encoding of 16 bytes (24 characters with padding).
fn is_valid_key(key: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .is_ok_and(|raw| raw.len() == 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(lines: &[&str]) -> Vec<u8> {
        let mut s = lines.join("\r\n");
        s.push_str("\r\n\r\n");
        s.into_bytes()
    }

    fn valid_lines() -> Vec<String> {
        vec![
            "GET /gateway?v=1&encoding=json HTTP/1.1".to_owned(),
            "Host: chat.example:3001".to_owned(),
            "Upgrade: websocket".to_owned(),
            "Connection: Upgrade".to_owned(),
            format!("Sec-WebSocket-Key: {KEY}"),
            "Sec-WebSocket-Version: 13".to_owned(),
            "Origin: https://chat.example".to_owned(),
        ]
    }

    fn parse_lines(lines: &[String]) -> Result<Option<UpgradeRequest>, HandshakeError> {
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        parse_request(&request(&refs), 8192)
    }

    fn without(header: &str) -> Vec<String> {
        valid_lines()
            .into_iter()
            .filter(|l| !l.to_ascii_lowercase().starts_with(header))
            .collect()
    }

    fn with_replaced(header: &str, line: &str) -> Vec<String> {
        let mut lines = without(header);
        lines.push(line.to_owned());
        lines
    }

    #[test]
    fn parses_a_valid_request() {
        let mut buf = request(&valid_lines().iter().map(String::as_str).collect::<Vec<_>>());
        let head_len = buf.len();
        buf.extend_from_slice(&[0x81, 0x80, 1, 2, 3, 4]); // a frame right behind
        let req = parse_request(&buf, 8192).unwrap().unwrap();
        assert_eq!(req.path, "/gateway");
        assert_eq!(req.query_param("v"), Some("1"));
        assert_eq!(req.query_param("encoding"), Some("json"));
        assert_eq!(req.query_param("missing"), None);
        assert_eq!(req.key, KEY);
        assert_eq!(req.host, "chat.example:3001");
        assert_eq!(req.origin.as_deref(), Some("https://chat.example"));
        assert_eq!(req.forwarded_for, None);
        assert_eq!(req.consumed, head_len);
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let buf = request(&valid_lines().iter().map(String::as_str).collect::<Vec<_>>());
        for cut in 0..buf.len() {
            assert_eq!(parse_request(&buf[..cut], 8192), Ok(None), "cut {cut}");
        }
    }

    #[test]
    fn header_values_are_case_insensitive_tokens() {
        let mut lines = with_replaced("upgrade", "UPGRADE: WebSocket");
        lines.retain(|l| !l.starts_with("Connection"));
        lines.push("connection: keep-alive, Upgrade".to_owned());
        lines.push("X-Forwarded-For: 203.0.113.7".to_owned());
        let req = parse_lines(&lines).unwrap().unwrap();
        assert_eq!(req.forwarded_for.as_deref(), Some("203.0.113.7"));
    }

    #[test]
    fn incomplete_head_over_the_limit_is_431() {
        let mut buf = b"GET / HTTP/1.1\r\nX-Big: ".to_vec();
        buf.extend(std::iter::repeat_n(b'a', 200));
        assert_eq!(
            parse_request(&buf, 100),
            Err(HandshakeError::HeadersTooLarge)
        );
        assert_eq!(parse_request(&buf, 1000), Ok(None));
        assert_eq!(HandshakeError::HeadersTooLarge.status(), 431);
    }

    #[test]
    fn complete_head_over_the_limit_is_431() {
        let buf = request(&valid_lines().iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(
            parse_request(&buf, buf.len() - 1),
            Err(HandshakeError::HeadersTooLarge)
        );
    }

    #[test]
    fn too_many_headers_is_431() {
        let mut lines = valid_lines();
        for i in 0..MAX_HEADERS {
            lines.push(format!("X-H{i}: v"));
        }
        assert_eq!(parse_lines(&lines), Err(HandshakeError::HeadersTooLarge));
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(
            parse_request(b"\x16\x03\x01\x02\x00\r\n\r\n", 8192),
            Err(HandshakeError::Malformed)
        );
    }

    #[test]
    fn method_must_be_get() {
        let mut lines = valid_lines();
        lines[0] = "POST /gateway HTTP/1.1".to_owned();
        assert_eq!(parse_lines(&lines), Err(HandshakeError::MethodNotGet));
    }

    #[test]
    fn http_1_0_is_refused() {
        let mut lines = valid_lines();
        lines[0] = "GET /gateway HTTP/1.0".to_owned();
        assert_eq!(
            parse_lines(&lines),
            Err(HandshakeError::UnsupportedHttpVersion)
        );
    }

    #[test]
    fn target_must_be_a_path() {
        let mut lines = valid_lines();
        lines[0] = "GET * HTTP/1.1".to_owned();
        assert_eq!(parse_lines(&lines), Err(HandshakeError::BadTarget));
    }

    #[test]
    fn host_is_required() {
        assert_eq!(
            parse_lines(&without("host")),
            Err(HandshakeError::MissingHost)
        );
    }

    #[test]
    fn upgrade_must_be_websocket() {
        assert_eq!(
            parse_lines(&without("upgrade")),
            Err(HandshakeError::NotWebSocket)
        );
        assert_eq!(
            parse_lines(&with_replaced("upgrade", "Upgrade: h2c")),
            Err(HandshakeError::NotWebSocket)
        );
    }

    #[test]
    fn connection_must_list_upgrade() {
        assert_eq!(
            parse_lines(&with_replaced("connection", "Connection: keep-alive")),
            Err(HandshakeError::NotUpgrade)
        );
    }

    #[test]
    fn version_must_be_13() {
        for line in ["Sec-WebSocket-Version: 8", "Sec-WebSocket-Version: 13, 8"] {
            let err = parse_lines(&with_replaced("sec-websocket-version", line)).unwrap_err();
            assert_eq!(err, HandshakeError::UnsupportedVersion);
            assert_eq!(err.status(), 400);
            assert_eq!(err.extra_headers(), &[("Sec-WebSocket-Version", "13")]);
        }
        assert_eq!(
            parse_lines(&without("sec-websocket-version")),
            Err(HandshakeError::UnsupportedVersion)
        );
    }

    #[test]
    fn key_must_be_16_bytes_of_base64() {
        for line in [
            "Sec-WebSocket-Key: not base64!",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZQ==", // 10 bytes
            "Sec-WebSocket-Key: ",
        ] {
            assert_eq!(
                parse_lines(&with_replaced("sec-websocket-key", line)),
                Err(HandshakeError::BadKey),
                "{line}"
            );
        }
        assert_eq!(
            parse_lines(&without("sec-websocket-key")),
            Err(HandshakeError::BadKey)
        );
        let mut twice = valid_lines();
        twice.push(format!("Sec-WebSocket-Key: {KEY}"));
        assert_eq!(parse_lines(&twice), Err(HandshakeError::BadKey));
    }

    #[test]
    fn error_response_is_a_complete_http_answer() {
        let mut out = Vec::new();
        HandshakeError::UnsupportedVersion.write_response(&mut out);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{text}");
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nunsupported Sec-WebSocket-Version (13 required)\n"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        use proptest::prelude::*;
        proptest!(|(data in proptest::collection::vec(any::<u8>(), 0..512), max in 0usize..600)| {
            let _ = parse_request(&data, max);
        });
    }
}
