//! [`ApiState`]: what every handler can reach.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::PrometheusHandle;
use protocol::UserId;
use service::{Chat, RateLimiter};
use tokio::sync::Semaphore;

use crate::config::ApiConfig;
use crate::media::{MediaBackend, MediaStore};

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
    /// Uploads and downloads.
    pub(crate) media: Arc<Media>,
}

/// The media side of the state.
pub(crate) struct Media {
    /// Where the object store is.
    backend: MediaBackend,
    /// The object store, opened on first use (so an API that never sees an upload
    /// creates no folder), or why it could not be opened (media routes then answer
    /// `503`; the rest of the API works).
    store: OnceLock<Result<MediaStore, String>>,
    /// Bounds the images decoded at once.
    pub(crate) decodes: Semaphore,
}

impl ApiState {
    /// State for `chat` with `config`; installs the process's metrics recorder on
    /// first use and opens the media store (logging, not failing, when it cannot).
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
        let media = Media {
            backend: config.media.backend.clone(),
            store: OnceLock::new(),
            decodes: Semaphore::new(config.media.concurrent_decodes.max(1)),
        };
        Self {
            chat,
            config: Arc::new(config),
            auth_limiter: Arc::new(auth_limiter),
            user_limiter: Arc::new(user_limiter),
            metrics: crate::metrics::prometheus(),
            media: Arc::new(media),
        }
    }
}

impl Media {
    /// The object store, opened on first use; `Err` (logged once) when it cannot be.
    pub(crate) fn store(&self) -> Result<&MediaStore, &str> {
        self.store
            .get_or_init(|| {
                let opened = MediaStore::open(&self.backend);
                if let Err(err) = &opened {
                    tracing::error!(error = %err, "media store unavailable; uploads and downloads answer 503");
                }
                opened
            })
            .as_ref()
            .map_err(String::as_str)
    }
}
