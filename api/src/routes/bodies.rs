//! Response bodies shared by several routes: `{user}`, `{channel}`, and lists.

use protocol::{Channel, User};
use serde::Serialize;
use utoipa::ToSchema;

use crate::schema::{ChannelSchema, UserSchema};

/// `{user}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserBody {
    /// The user.
    #[schema(value_type = UserSchema)]
    pub user: User,
}

/// `{users: [User]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsersBody {
    /// The users.
    #[schema(value_type = Vec<UserSchema>)]
    pub users: Vec<User>,
}

/// `{channel}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelBody {
    /// The channel as the caller sees it.
    #[schema(value_type = ChannelSchema)]
    pub channel: Channel,
}

/// `{channels: [Channel]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelsBody {
    /// The channels as the caller sees them.
    #[schema(value_type = Vec<ChannelSchema>)]
    pub channels: Vec<Channel>,
}
