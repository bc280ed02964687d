//! [`Auth`]: the caller of an authenticated route, from `Authorization: Bearer <jwt>`.
//!
//! Order matters for cost: the token's signature is checked first (no IO), then the
//! per-user rate limit (so a flood never reaches storage), then that the user exists.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use protocol::{User, UserId};
use service::ServiceError;

use crate::error::ApiError;
use crate::state::ApiState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Who they are.
    pub user: User,
}

impl Auth {
    /// The caller's id.
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

impl FromRequestParts<ApiState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers)
            .ok_or_else(|| ServiceError::unauthorized("missing bearer token"))?;
        let id = state.chat.verify_token(token)?;
        state.user_limiter.check(&id).map_err(|retry| {
            ServiceError::rate_limited(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX))
        })?;
        let user = state.chat.user_by_token_id(id).await?;
        Ok(Auth { user })
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_headers() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        for (value, expected) in [
            ("Bearer abc", Some("abc")),
            ("bearer  abc ", Some("abc")),
            ("Basic abc", None),
            ("Bearer", None),
            ("Bearer ", None),
        ] {
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            assert_eq!(bearer(&headers), expected, "{value}");
        }
    }
}
