//! The kinds of caller that must not get in: no token, and tokens that are wrong in
//! each of the ways a JWT can be wrong (shape, expiry, algorithm, key, subject).
//!
//! Each kind is built here from scratch (the `none` forgery by hand, since no JWT
//! library will sign one), so the matrix does not trust the code it tests.

use std::time::{SystemTime, UNIX_EPOCH};

use protocol::UserId;

/// The secret of `common::test_config`.
pub const SECRET: &[u8] = b"test-secret-test-secret-test-secret!";

/// A key the node does not know.
const OTHER_SECRET: &[u8] = b"another-secret-another-secret-!!!";

/// A caller without a valid identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadToken {
    /// No `Authorization` header (gateway: an empty `token`).
    Missing,
    /// Not a JWT at all.
    Malformed,
    /// A well-signed token whose `exp` has passed.
    Expired,
    /// `alg: none`, no signature, naming a real user.
    AlgNone,
    /// HS256, naming a real user, signed with another key.
    OtherKey,
    /// Well signed and current, but `sub` names no user.
    UnknownUser,
    /// A valid token under another scheme (`Token ...` instead of `Bearer ...`);
    /// API only, the gateway has no scheme.
    WrongScheme,
}

impl BadToken {
    /// Every kind, for the API.
    pub const ALL: [BadToken; 7] = [
        BadToken::Missing,
        BadToken::Malformed,
        BadToken::Expired,
        BadToken::AlgNone,
        BadToken::OtherKey,
        BadToken::UnknownUser,
        BadToken::WrongScheme,
    ];

    /// The kinds that apply to `IDENTIFY`.
    pub const GATEWAY: [BadToken; 6] = [
        BadToken::Missing,
        BadToken::Malformed,
        BadToken::Expired,
        BadToken::AlgNone,
        BadToken::OtherKey,
        BadToken::UnknownUser,
    ];

    /// The `Authorization` header value, if any. `victim` is a real user the forged
    /// tokens claim to be; `valid` is that user's real token.
    pub fn header(self, victim: u64, valid: &str) -> Option<String> {
        match self {
            BadToken::Missing => None,
            BadToken::WrongScheme => Some(format!("Token {valid}")),
            other => Some(format!("Bearer {}", other.token(victim))),
        }
    }

    /// The token itself (`Missing`: empty; `WrongScheme`: not a token kind, so the
    /// malformed one).
    pub fn token(self, victim: u64) -> String {
        let now = now_secs();
        match self {
            BadToken::Missing => String::new(),
            BadToken::Malformed | BadToken::WrongScheme => "this-is-not-a-jwt".to_owned(),
            BadToken::Expired => sign(SECRET, victim, now - 7_200, 60),
            BadToken::AlgNone => {
                let header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
                let claims = format!(r#"{{"sub":"{victim}","iat":{now},"exp":{}}}"#, now + 3_600);
                format!("{header}.{}.", b64url(claims.as_bytes()))
            }
            BadToken::OtherKey => sign(OTHER_SECRET, victim, now, 3_600),
            BadToken::UnknownUser => sign(SECRET, 987_654_321_012_345, now, 3_600),
        }
    }
}

/// A real HS256 token signed by the project's own issuer.
fn sign(secret: &[u8], user: u64, now: u64, ttl: u64) -> String {
    service::auth::jwt::issue(secret, UserId::new(user), now, ttl).expect("jwt issue")
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// Unpadded base64url (RFC 4648 section 5), enough to forge a token.
fn b64url(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64url_matches_rfc4648_vectors() {
        // RFC 4648 section 10, without padding.
        for (input, expected) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(b64url(input.as_bytes()), expected);
        }
        assert_eq!(b64url(&[0xfb, 0xff]), "-_8");
    }

    /// Each bad token is wrong for its one reason only: otherwise a 401 could come
    /// from a different flaw than the row claims to test.
    #[test]
    fn each_bad_token_has_exactly_its_flaw() {
        use service::auth::jwt::verify;
        let victim = 42;
        let err = verify(SECRET, &BadToken::Expired.token(victim)).unwrap_err();
        assert_eq!(err.message, "token expired");
        assert_eq!(
            verify(OTHER_SECRET, &BadToken::OtherKey.token(victim))
                .unwrap()
                .get(),
            victim
        );
        assert_eq!(
            verify(SECRET, &BadToken::UnknownUser.token(victim))
                .unwrap()
                .get(),
            987_654_321_012_345
        );
        let forged = BadToken::AlgNone.token(victim);
        let parts: Vec<&str> = forged.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], b64url(br#"{"alg":"none","typ":"JWT"}"#));
        assert!(parts[2].is_empty(), "no signature");
        assert!(verify(SECRET, &forged).is_err());
        assert_eq!(
            BadToken::WrongScheme.header(victim, "valid"),
            Some("Token valid".to_owned())
        );
        assert_eq!(BadToken::Missing.header(victim, "valid"), None);
    }
}
