//! [`ClientIp`]: the client's address, for per-IP rate limits; [`AuthAttempt`]: one
//! register or login attempt counted against it.
//!
//! The address is the socket peer (`ConnectInfo`), or, when
//! [`crate::ApiConfig::trust_forwarded_for`] is set, the last entry of
//! `X-Forwarded-For`: the one our own proxy appended (earlier entries come from the
//! client and can be forged). A request with neither (in-process tests) counts as
//! the unspecified address.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use service::ServiceError;

use crate::error::ApiError;
use crate::state::ApiState;

/// The client's IP address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<ApiState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        if state.config.trust_forwarded_for {
            if let Some(ip) = forwarded_for(parts) {
                return Ok(ClientIp(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        Ok(ClientIp(peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

fn forwarded_for(parts: &Parts) -> Option<IpAddr> {
    parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|last| last.trim().parse().ok())
}

/// One register or login attempt, allowed by the per-IP limit (else `429`).
#[derive(Debug, Clone, Copy)]
pub struct AuthAttempt(pub IpAddr);

impl FromRequestParts<ApiState> for AuthAttempt {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        state.auth_limiter.check(&ip).map_err(|retry| {
            ServiceError::rate_limited(u64::try_from(retry.as_millis()).unwrap_or(u64::MAX))
        })?;
        Ok(AuthAttempt(ip))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::Request;

    use super::*;

    fn parts(forwarded: &[&str]) -> Parts {
        let mut builder = Request::builder();
        for value in forwarded {
            builder = builder.header("x-forwarded-for", *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn takes_the_last_forwarded_entry() {
        assert_eq!(forwarded_for(&parts(&[])), None);
        assert_eq!(
            forwarded_for(&parts(&["1.1.1.1, 2.2.2.2"])),
            Some("2.2.2.2".parse().unwrap())
        );
        assert_eq!(
            forwarded_for(&parts(&["1.1.1.1", "::1"])),
            Some("::1".parse().unwrap())
        );
        assert_eq!(forwarded_for(&parts(&["garbage"])), None);
    }
}
