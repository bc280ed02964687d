//! HS256 JWTs: `sub` = the user id as a decimal string, `iat`, `exp` (seconds).
//!
//! Verification accepts HS256 only (an `alg` of `none` or any other algorithm is
//! refused), checks the signature, and refuses an expired token with no leeway.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use protocol::UserId;
use serde::{Deserialize, Serialize};

use crate::error::{Result, ServiceError};

/// The claims of a Layer4 token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id, decimal.
    pub sub: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

/// Signs a token for `user`, valid `ttl_secs` from `now_secs`.
pub fn issue(secret: &[u8], user: UserId, now_secs: u64, ttl_secs: u64) -> Result<String> {
    let claims = Claims {
        sub: user.to_string(),
        iat: now_secs,
        exp: now_secs.saturating_add(ttl_secs),
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .map_err(|e| ServiceError::internal(format!("jwt encode: {e}")))
}

/// Checks the token's algorithm, signature and expiry; returns the user id it names
/// (whether that user exists is the caller's check). Any failure is `UNAUTHORIZED`.
pub fn verify(secret: &[u8], token: &str) -> Result<UserId> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub"]);
    let data = decode::<Claims>(token, &DecodingKey::from_secret(secret), &validation).map_err(
        |e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                ServiceError::unauthorized("token expired")
            }
            _ => ServiceError::unauthorized("invalid token"),
        },
    )?;
    data.claims
        .sub
        .parse::<u64>()
        .map(UserId::new)
        .map_err(|_| ServiceError::unauthorized("invalid token"))
}

#[cfg(test)]
mod tests {
    use base64_like::encode_segment;

    use super::*;

    /// Minimal unpadded base64url, enough to forge test tokens.
    mod base64_like {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

        pub fn encode_segment(input: &[u8]) -> String {
            let mut out = String::new();
            for chunk in input.chunks(3) {
                let b = [
                    chunk[0],
                    chunk.get(1).copied().unwrap_or(0),
                    chunk.get(2).copied().unwrap_or(0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                let chars = chunk.len() + 1;
                for i in 0..chars {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    const SECRET: &[u8] = b"test secret";

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    #[test]
    fn round_trip() {
        let token = issue(SECRET, UserId::new(42), now(), 60).unwrap();
        assert_eq!(verify(SECRET, &token).unwrap(), UserId::new(42));
    }

    #[test]
    fn refuses_wrong_secret_expired_and_garbage() {
        let token = issue(SECRET, UserId::new(1), now(), 60).unwrap();
        assert_eq!(
            verify(b"other", &token).unwrap_err().code,
            protocol::ErrorCode::Unauthorized
        );
        let expired = issue(SECRET, UserId::new(1), now() - 100, 50).unwrap();
        assert_eq!(
            verify(SECRET, &expired).unwrap_err().message,
            "token expired"
        );
        assert!(verify(SECRET, "not.a.token").is_err());
        assert!(verify(SECRET, "").is_err());
    }

    #[test]
    fn refuses_alg_none_and_other_algorithms() {
        let payload = format!(r#"{{"sub":"1","iat":{},"exp":{}}}"#, now(), now() + 600);
        let none = format!(
            "{}.{}.",
            encode_segment(br#"{"alg":"none","typ":"JWT"}"#),
            encode_segment(payload.as_bytes())
        );
        assert!(verify(SECRET, &none).is_err());
        let hs384 = encode(
            &Header::new(Algorithm::HS384),
            &Claims {
                sub: "1".into(),
                iat: now(),
                exp: now() + 600,
            },
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(verify(SECRET, &hs384).is_err());
    }

    #[test]
    fn refuses_a_sub_that_is_not_an_id() {
        let token = encode(
            &Header::new(Algorithm::HS256),
            &Claims {
                sub: "alice".into(),
                iat: now(),
                exp: now() + 600,
            },
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert!(verify(SECRET, &token).is_err());
    }
}
