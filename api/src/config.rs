//! [`ApiConfig`]: the API's own settings (the chat rules are in
//! [`service::ChatConfig`]). Built by `main`, every default documented here.

use protocol::limits;

use crate::media::MediaConfig;
use crate::web::WebConfig;

/// Settings of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    /// Register and login requests per client IP per minute. Default 10 (`layer4 dev`
    /// passes 1000). 0 disables the limit.
    pub register_per_min: u32,
    /// Authenticated requests per user per second. Default 50. 0 disables the limit.
    pub per_user_per_sec: u32,
    /// When set, `/metrics` answers only `Authorization: Bearer <this>`. Default none.
    pub metrics_token: Option<String>,
    /// Take the client IP from the last `X-Forwarded-For` entry (the one our proxy
    /// appended) instead of the socket peer. Only behind a trusted proxy. Default off.
    pub trust_forwarded_for: bool,
    /// Largest request body in bytes; larger is 413. Default 1 MiB.
    pub body_limit: usize,
    /// Most keys (IPs, users) each rate limiter tracks. Default 100 000.
    pub rate_limit_max_keys: usize,
    /// Browser origins allowed to call the API (CORS), e.g. `https://chat.example.com`;
    /// `*` allows any. Default none: no CORS headers, so other origins cannot read
    /// answers.
    pub cors_origins: Vec<String>,
    /// Uploads and downloads: where files go, size and pixel caps (see
    /// [`MediaConfig`]).
    pub media: MediaConfig,
    /// How long one search may run in storage before it answers `503`. Default 2000 ms.
    pub search_time_budget_ms: u64,
    /// The browser client served at `/` (`layer4 dev` sets it). Default none: `/` is
    /// the JSON 404.
    pub web: Option<WebConfig>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            register_per_min: limits::AUTH_REQUESTS_PER_WINDOW,
            per_user_per_sec: limits::API_REQUESTS_PER_WINDOW,
            metrics_token: None,
            trust_forwarded_for: false,
            body_limit: 1024 * 1024,
            rate_limit_max_keys: 100_000,
            cors_origins: Vec::new(),
            media: MediaConfig::default(),
            search_time_budget_ms: 2_000,
            web: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_contract() {
        let c = ApiConfig::default();
        assert_eq!((c.register_per_min, c.per_user_per_sec), (10, 50));
        assert_eq!(c.body_limit, 1 << 20);
        assert!(!c.trust_forwarded_for && c.metrics_token.is_none());
    }
}
