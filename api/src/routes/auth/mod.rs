//! `/api/auth`: register and login, the routes that need no token. Both are limited
//! per client IP ([`crate::ApiConfig::register_per_min`]).

pub mod login;
pub mod register;

use protocol::User;
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::UserSchema;

/// `{user, token}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuthBody {
    /// The user.
    #[schema(value_type = UserSchema)]
    pub user: User,
    /// A JWT for `Authorization: Bearer` and the gateway's `IDENTIFY`.
    pub token: String,
}

impl From<service::AuthSession> for AuthBody {
    fn from(session: service::AuthSession) -> Self {
        Self {
            user: session.user,
            token: session.token,
        }
    }
}
