//! The Layer4 wire contract (PROTOCOL.md) as Rust types, with no IO.
//!
//! - [`ids`]: typed Snowflake ids; [`snowflake`]: the generator.
//! - [`objects`]: User, Channel, Message, Attachment.
//! - [`events`]: every client and server event, and the envelope `{t, d, id?, s?}`.
//! - [`codec`]: MessagePack and JSON encoding of envelopes; decoding never panics.
//! - [`limits`]: every number of the contract, and the input checks the API and the
//!   gateway share; [`error`], [`close`]: the codes of section 8.
//!
//! It is not the gateway: framing, sessions and sockets live in the `gateway` crate.

pub mod close;
pub mod codec;
pub mod error;
pub mod events;
pub mod ids;
pub mod limits;
pub mod objects;
pub mod snowflake;

pub use close::CloseCode;
pub use codec::{DecodeError, Encoding};
pub use error::ErrorCode;
pub use events::{ClientEvent, Frame, ServerEvent};
pub use ids::{AttachmentId, ChannelId, Id, MessageId, UserId};
pub use objects::{
    Attachment, Channel, ChannelKind, Member, Message, ReactionCount, Role, User, UserStatus,
    Visibility,
};
