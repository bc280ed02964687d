//! [`SessionStore`]: the trait's three reads, all answered by PostgreSQL.

use super::PgScyllaStore;
use crate::ops::session::SessionStore;

impl SessionStore for PgScyllaStore {}
