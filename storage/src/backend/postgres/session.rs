//! [`SessionStore`] for PostgreSQL: the trait's three reads (each an async round trip
//! on the pool, no thread hop to save).

use super::PostgresStore;
use crate::ops::session::SessionStore;

impl SessionStore for PostgresStore {}
