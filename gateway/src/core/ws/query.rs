//! Query strings of the upgrade request (`?v=1&encoding=msgpack`).
//!
//! Decoded the way browsers encode forms (`application/x-www-form-urlencoded`): pairs
//! split on `&`, key and value on the first `=`, `+` is a space, `%XX` a byte. Like the
//! WHATWG URL parser it is lenient: a `%` not followed by two hex digits stays as is,
//! and bytes that are not UTF-8 become U+FFFD. The session layer decides which values it
//! accepts; this module only makes them readable.

/// Splits and percent-decodes a raw query string (without the leading `?`).
pub(crate) fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Decodes `+` and `%XX` escapes.
fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => match (
                bytes.get(i + 1).copied().and_then(hex_value),
                bytes.get(i + 2).copied().and_then(hex_value),
            ) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &str) -> Vec<(String, String)> {
        parse_query(raw)
    }

    fn owned(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn splits_pairs() {
        assert_eq!(
            pairs("v=1&encoding=msgpack"),
            owned(&[("v", "1"), ("encoding", "msgpack")])
        );
    }

    #[test]
    fn empty_and_valueless() {
        assert_eq!(pairs(""), owned(&[]));
        assert_eq!(pairs("a&&b="), owned(&[("a", ""), ("b", "")]));
        assert_eq!(pairs("k=a=b"), owned(&[("k", "a=b")]));
    }

    #[test]
    fn percent_and_plus() {
        assert_eq!(
            pairs("na%6De=h%C3%A9llo+w%2Bx"),
            owned(&[("name", "héllo w+x")])
        );
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(pairs("a=%zz%4"), owned(&[("a", "%zz%4")]));
        assert_eq!(pairs("a=%"), owned(&[("a", "%")]));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(pairs("a=%ff"), owned(&[("a", "\u{fffd}")]));
    }
}
