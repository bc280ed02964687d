//! The event a committed write publishes (PROTOCOL.md section 7).

use protocol::events::server::{
    ChannelUser, MessageData, MessageDeleted, ReactionData, UserJoined,
};
use protocol::events::ServerEvent;
use protocol::{Message, User};
use storage::EventWrite;

/// The channel event of `write`, given what storage stored. `None` when the write's
/// event needs data it did not get (a create or edit without its message, a join
/// without its user): a bug, which the worker reports as an internal error.
pub(crate) fn of(
    write: &EventWrite,
    message: Option<Message>,
    joined: Option<User>,
) -> Option<ServerEvent> {
    Some(match write {
        EventWrite::CreateMessage(_) => {
            ServerEvent::MessageReceived(Box::new(MessageData { message: message? }))
        }
        EventWrite::EditMessage { .. } => {
            ServerEvent::MessageEdited(Box::new(MessageData { message: message? }))
        }
        EventWrite::DeleteMessage { channel, id, .. } => {
            ServerEvent::MessageDeleted(MessageDeleted {
                channel_id: *channel,
                message_id: *id,
            })
        }
        EventWrite::AddReaction {
            channel,
            message,
            user,
            emoji,
            ..
        } => ServerEvent::ReactionAdded(ReactionData {
            channel_id: *channel,
            message_id: *message,
            user_id: *user,
            emoji: emoji.clone(),
        }),
        EventWrite::RemoveReaction {
            channel,
            message,
            user,
            emoji,
        } => ServerEvent::ReactionRemoved(ReactionData {
            channel_id: *channel,
            message_id: *message,
            user_id: *user,
            emoji: emoji.clone(),
        }),
        EventWrite::AddMember { channel, .. } => ServerEvent::UserJoined(Box::new(UserJoined {
            channel_id: *channel,
            user: joined?,
        })),
        EventWrite::RemoveMember { channel, user } => ServerEvent::UserLeft(ChannelUser {
            channel_id: *channel,
            user_id: *user,
        }),
    })
}
