//! [`ApiState`]: what every handler can reach.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use protocol::UserId;
use service::{Chat, RateLimiter};

use crate::config::ApiConfig;

/// The API's shared state: the chat service, the config and the rate limiters.
#[derive(Clone)]
pub struct ApiState {
    /// The chat operations.
    pub chat: Chat,
    /// The API settings.
    pub config: Arc<ApiConfig>,
    /// Register and login attempts per client IP.
    pub(crate) auth_limiter: Arc<RateLimiter<IpAddr>>,
    /// Authenticated requests per user.
    pub(crate) user_limiter: Arc<RateLimiter<UserId>>,
    /// Renders `/metrics`.
    pub(crate) metrics: PrometheusHandle,
}

impl ApiState {
    /// State for `chat` with `config`; installs the process's metrics recorder on
    /// first use.
    pub fn new(chat: Chat, config: ApiConfig) -> Self {
        let auth_limiter = RateLimiter::new(
            config.register_per_min,
            Duration::from_secs(60),
            config.rate_limit_max_keys,
        );
        let user_limiter = RateLimiter::new(
            config.per_user_per_sec,
            Duration::from_secs(1),
            config.rate_limit_max_keys,
        );
        Self {
            chat,
            config: Arc::new(config),
            auth_limiter: Arc::new(auth_limiter),
            user_limiter: Arc::new(user_limiter),
            metrics: crate::metrics::prometheus(),
        }
    }
}
