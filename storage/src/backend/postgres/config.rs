//! The forms of a PostgreSQL `DATABASE_URL`.
//!
//! `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS]` (or `postgresql://`),
//! with libpq's parameters (`sslmode`, `connect_timeout`, `options`, ...: whatever
//! `tokio_postgres::Config` reads) and two of our own, taken out before the rest is
//! handed to the driver:
//!
//! - `schema=NAME`: the tables live in that schema (created if missing, by the
//!   migrator); every connection sets `search_path` to it. Several deployments, or one
//!   per test, can then share a database. Without it, the server's `search_path` is
//!   used (normally `public`).
//! - `pool_size=N`: connections kept per node (default [`DEFAULT_POOL_SIZE`]).
//!
//! TLS is not built in: use `sslmode=disable` or a local socket / tunnel.

use std::str::FromStr;
use std::time::Duration;

use crate::error::{Result, StoreError};

/// Connections per node unless the URL says `pool_size=N`.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// Statements are parsed once per connection but planned at each execution, with the
/// actual parameters and the table's current size. A generic plan, which PostgreSQL
/// otherwise settles on after five executions, is made once from the statistics of that
/// moment: on a young table it picked a sequential scan for `id = ANY($1)` and kept it
/// as the table grew to 100 000 rows (800 ms per batch instead of 1). Planning our
/// statements costs tens of microseconds. A URL whose `options` set `plan_cache_mode`
/// keeps its own.
const PLAN_CACHE_MODE: &str = "force_custom_plan";

/// How long a call waits for a connection (and a new connection for the server)
/// before `Unavailable`, unless the URL sets `connect_timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed PostgreSQL URL.
#[derive(Clone)]
pub struct PostgresConfig {
    connection: tokio_postgres::Config,
    schema: Option<String>,
    pool_size: usize,
    timeout: Duration,
}

impl std::fmt::Debug for PostgresConfig {
    // The driver's config holds the password: show only what is harmless.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

impl PostgresConfig {
    /// Parses `url`; `Invalid` names what is wrong (never echoing a password).
    pub fn parse(url: &str) -> Result<Self> {
        let invalid = |what: String| StoreError::Invalid(format!("DATABASE_URL: {what}"));
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(invalid("expected postgres://".into()));
        }
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        let mut schema = None;
        let mut pool_size = DEFAULT_POOL_SIZE;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            match pair.split_once('=') {
                Some(("schema", name)) => {
                    if !valid_schema(name) {
                        return Err(invalid(format!(
                            "schema {name:?}: use a-z, 0-9 and _, at most 63, not starting with a digit"
                        )));
                    }
                    schema = Some(name.to_owned());
                }
                Some(("pool_size", size)) => {
                    pool_size = size.parse().ok().filter(|&size| size > 0).ok_or_else(|| {
                        invalid(format!("pool_size {size:?}: expected 1 or more"))
                    })?;
                }
                _ => rest.push(pair),
            }
        }
        let driver_url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut connection = tokio_postgres::Config::from_str(&driver_url)
            .map_err(|err| invalid(err.to_string()))?;
        if connection.get_dbname().is_none() {
            return Err(invalid(
                "no database name (postgres://HOST/DATABASE)".into(),
            ));
        }
        let timeout = connection
            .get_connect_timeout()
            .copied()
            .unwrap_or(DEFAULT_TIMEOUT);
        connection.connect_timeout(timeout);
        if connection.get_application_name().is_none() {
            connection.application_name("layer4");
        }
        let mut options: Vec<String> = connection
            .get_options()
            .map(str::to_owned)
            .into_iter()
            .collect();
        if !options.iter().any(|o| o.contains("plan_cache_mode")) {
            options.push(format!("-c plan_cache_mode={PLAN_CACHE_MODE}"));
        }
        if let Some(schema) = &schema {
            options.push(format!("-c search_path={schema}"));
        }
        connection.options(options.join(" "));
        Ok(Self {
            connection,
            schema,
            pool_size,
            timeout,
        })
    }

    /// The driver's settings.
    pub(crate) fn connection(&self) -> &tokio_postgres::Config {
        &self.connection
    }

    /// The schema of `schema=NAME`, if any.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Connections per node.
    pub fn pool_size(&self) -> usize {
        self.pool_size
    }

    /// How long to wait for a connection.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A schema name that needs no quoting: lowercase ASCII letters, digits and `_`, not
/// starting with a digit, at most 63 bytes (PostgreSQL's identifier length).
fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_parameters_are_taken_out() {
        let config = PostgresConfig::parse(
            "postgres://u:secret@db.local:6543/chat?schema=node_1&sslmode=disable&pool_size=4",
        )
        .unwrap();
        assert_eq!(config.schema(), Some("node_1"));
        assert_eq!(config.pool_size(), 4);
        assert_eq!(config.connection().get_dbname(), Some("chat"));
        assert_eq!(
            config.connection().get_options(),
            Some("-c plan_cache_mode=force_custom_plan -c search_path=node_1")
        );
        assert_eq!(config.timeout(), DEFAULT_TIMEOUT);
        assert!(!format!("{config:?}").contains("secret"));

        let plain = PostgresConfig::parse("postgresql://u@h/d?connect_timeout=2").unwrap();
        assert_eq!(plain.schema(), None);
        assert_eq!(plain.pool_size(), DEFAULT_POOL_SIZE);
        assert_eq!(plain.timeout(), Duration::from_secs(2));
        assert_eq!(
            plain.connection().get_options(),
            Some("-c plan_cache_mode=force_custom_plan")
        );
        let own =
            PostgresConfig::parse("postgres://u@h/d?options=-c%20plan_cache_mode%3Dauto&schema=s")
                .unwrap();
        assert_eq!(
            own.connection().get_options(),
            Some("-c plan_cache_mode=auto -c search_path=s")
        );
    }

    #[test]
    fn bad_urls_are_invalid_and_never_echo_the_password() {
        for url in [
            "mysql://u:secret@h/d",
            "postgres://u:secret@h/d?schema=Bad-Name",
            "postgres://u:secret@h/d?schema=1st",
            "postgres://u:secret@h/d?schema=",
            "postgres://u:secret@h/d?pool_size=0",
            "postgres://u:secret@h/d?pool_size=many",
            "postgres://u:secret@h/d?nonsense=1",
            "postgres://u:secret@h",
        ] {
            let err = PostgresConfig::parse(url).unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{url}: {err:?}");
            assert!(!err.to_string().contains("secret"), "{url}: {err}");
        }
    }
}
