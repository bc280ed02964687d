//! Proptest strategies for every object and event of the protocol, shared by the
//! round-trip and robustness suites.

use std::collections::BTreeMap;

use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use proptest::sample::select;
use protocol::events::client::{
    ChannelRef, DeleteMessage, EditMessage, Empty, FetchMessages, Identify, MarkAsRead, Reaction,
    SendMessage, SetStatus,
};
use protocol::events::server::{
    Ack, ChannelData, ChannelDeleted, ChannelUser, ErrorData, MessageData, MessageDeleted,
    MessagesLoaded, ReactionData, ReadReceipt, Ready, StatusChanged, UserJoined,
};
use protocol::events::{ClientEvent, Frame, ServerEvent};
use protocol::ids::Id;
use protocol::{
    Attachment, Channel, ChannelKind, ErrorCode, Message, ReactionCount, User, UserStatus,
    Visibility,
};

/// Any string, newlines, quotes and astral characters included.
pub fn text() -> impl Strategy<Value = String> {
    "(?s).{0,16}"
}

pub fn id<M: 'static>() -> impl Strategy<Value = Id<M>> {
    any::<u64>().prop_map(Id::new)
}

pub fn status() -> impl Strategy<Value = UserStatus> {
    select(vec![
        UserStatus::Online,
        UserStatus::Idle,
        UserStatus::Away,
        UserStatus::Offline,
    ])
}

pub fn error_code() -> impl Strategy<Value = ErrorCode> {
    select(vec![
        ErrorCode::BadRequest,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::RateLimited,
        ErrorCode::TooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Blocked,
        ErrorCode::Unavailable,
        ErrorCode::Internal,
    ])
}

pub fn user() -> impl Strategy<Value = User> {
    (id(), text(), text(), of(status())).prop_map(|(id, username, display_name, status)| User {
        id,
        username,
        display_name,
        status,
    })
}

pub fn channel() -> impl Strategy<Value = Channel> {
    let kind = select(vec![
        ChannelKind::Dm,
        ChannelKind::Group,
        ChannelKind::Thread,
    ]);
    let visibility = select(vec![Visibility::Public, Visibility::Private]);
    (
        (id(), kind, text(), visibility, of(id()), of(id())),
        (
            any::<u32>(),
            of(id()),
            any::<u64>(),
            of(id()),
            any::<u32>(),
            any::<bool>(),
            of(any::<u64>()),
        ),
    )
        .prop_map(
            |(
                (id, kind, name, visibility, parent_id, root_message_id),
                (
                    member_count,
                    last_message_id,
                    offset,
                    last_read_message_id,
                    unread_count,
                    muted,
                    muted_until,
                ),
            )| Channel {
                id,
                kind,
                name,
                visibility,
                parent_id,
                root_message_id,
                member_count,
                last_message_id,
                offset,
                last_read_message_id,
                unread_count,
                muted,
                muted_until,
            },
        )
}

pub fn attachment() -> impl Strategy<Value = Attachment> {
    (
        id(),
        text(),
        text(),
        any::<u64>(),
        text(),
        of(any::<u32>()),
        of(any::<u32>()),
        of(text()),
    )
        .prop_map(
            |(id, filename, content_type, size, url, width, height, thumbnail_url)| Attachment {
                id,
                filename,
                content_type,
                size,
                url,
                width,
                height,
                thumbnail_url,
            },
        )
}

pub fn message() -> impl Strategy<Value = Message> {
    (
        (id(), id(), user(), text(), any::<u64>()),
        (
            of(any::<u64>()),
            of(id()),
            vec(attachment(), 0..3),
            vec(
                (text(), any::<u32>()).prop_map(|(emoji, count)| ReactionCount { emoji, count }),
                0..3,
            ),
            of(text()),
        ),
    )
        .prop_map(
            |(
                (id, channel_id, author, content, created_at),
                (edited_at, reply_to, attachments, reactions, nonce),
            )| {
                Message {
                    id,
                    channel_id,
                    author,
                    content,
                    created_at,
                    edited_at,
                    reply_to,
                    attachments,
                    reactions,
                    nonce,
                }
            },
        )
}

fn positions() -> impl Strategy<Value = BTreeMap<protocol::ChannelId, u64>> {
    btree_map(id(), any::<u64>(), 0..4)
}

pub fn client_event() -> impl Strategy<Value = ClientEvent> {
    let channel_ref = || id().prop_map(|channel_id| ChannelRef { channel_id });
    let reaction = || (id(), text()).prop_map(|(message_id, emoji)| Reaction { message_id, emoji });
    prop_oneof![
        (text(), of(status()), of(positions())).prop_map(|(token, status, positions)| {
            ClientEvent::Identify(Identify {
                token,
                status,
                positions,
            })
        }),
        Just(ClientEvent::Ping(Empty {})),
        (id(), text(), of(text()), of(id()), of(vec(id(), 0..4))).prop_map(
            |(channel_id, content, nonce, reply_to, attachment_ids)| {
                ClientEvent::SendMessage(SendMessage {
                    channel_id,
                    content,
                    nonce,
                    reply_to,
                    attachment_ids,
                })
            }
        ),
        (id(), text()).prop_map(
            |(message_id, content)| ClientEvent::EditMessage(EditMessage {
                message_id,
                content
            })
        ),
        id().prop_map(|message_id| ClientEvent::DeleteMessage(DeleteMessage { message_id })),
        reaction().prop_map(ClientEvent::AddReaction),
        reaction().prop_map(ClientEvent::RemoveReaction),
        channel_ref().prop_map(ClientEvent::StartTyping),
        channel_ref().prop_map(ClientEvent::StopTyping),
        (id(), of(id()), of(id()), of(id()), of(any::<u32>())).prop_map(
            |(channel_id, before, after, around, limit)| {
                ClientEvent::FetchMessages(FetchMessages {
                    channel_id,
                    before,
                    after,
                    around,
                    limit,
                })
            }
        ),
        channel_ref().prop_map(ClientEvent::JoinChannel),
        channel_ref().prop_map(ClientEvent::LeaveChannel),
        (id(), id()).prop_map(
            |(channel_id, message_id)| ClientEvent::MarkAsRead(MarkAsRead {
                channel_id,
                message_id
            })
        ),
        status().prop_map(|status| ClientEvent::SetStatus(SetStatus { status })),
    ]
}

pub fn server_event() -> impl Strategy<Value = ServerEvent> {
    let channel_user = || {
        (id(), id()).prop_map(|(channel_id, user_id)| ChannelUser {
            channel_id,
            user_id,
        })
    };
    let reaction = || {
        (id(), id(), id(), text()).prop_map(|(channel_id, message_id, user_id, emoji)| {
            ReactionData {
                channel_id,
                message_id,
                user_id,
                emoji,
            }
        })
    };
    let message_data = || message().prop_map(|message| Box::new(MessageData { message }));
    let channel_data = || channel().prop_map(|channel| Box::new(ChannelData { channel }));
    prop_oneof![
        (
            text(),
            user(),
            vec(channel(), 0..3),
            vec(id(), 0..3),
            any::<u64>(),
            vec(id(), 0..3)
        )
            .prop_map(
                |(session_id, user, channels, blocked_user_ids, heartbeat_interval_ms, resync)| {
                    ServerEvent::Ready(Box::new(Ready {
                        session_id,
                        user,
                        channels,
                        blocked_user_ids,
                        heartbeat_interval_ms,
                        resync,
                    }))
                }
            ),
        Just(ServerEvent::Pong(Empty {})),
        (of(message()), of(channel()))
            .prop_map(|(message, channel)| ServerEvent::Ack(Box::new(Ack { message, channel }))),
        (error_code(), text(), of(any::<u64>())).prop_map(|(code, message, retry_after_ms)| {
            ServerEvent::Error(ErrorData {
                code,
                message,
                retry_after_ms,
            })
        }),
        message_data().prop_map(ServerEvent::MessageReceived),
        message_data().prop_map(ServerEvent::MessageEdited),
        (id(), id()).prop_map(|(channel_id, message_id)| ServerEvent::MessageDeleted(
            MessageDeleted {
                channel_id,
                message_id
            }
        )),
        reaction().prop_map(ServerEvent::ReactionAdded),
        reaction().prop_map(ServerEvent::ReactionRemoved),
        (id(), user()).prop_map(|(channel_id, user)| ServerEvent::UserJoined(Box::new(
            UserJoined { channel_id, user }
        ))),
        channel_user().prop_map(ServerEvent::UserLeft),
        channel_user().prop_map(ServerEvent::TypingStarted),
        channel_user().prop_map(ServerEvent::TypingStopped),
        (id(), id(), id()).prop_map(|(channel_id, user_id, message_id)| {
            ServerEvent::ReadReceiptUpdated(ReadReceipt {
                channel_id,
                user_id,
                message_id,
            })
        }),
        (id(), status()).prop_map(|(user_id, status)| ServerEvent::UserStatusChanged(
            StatusChanged { user_id, status }
        )),
        channel_data().prop_map(ServerEvent::ChannelCreated),
        channel_data().prop_map(ServerEvent::ChannelUpdated),
        id().prop_map(|channel_id| ServerEvent::ChannelDeleted(ChannelDeleted { channel_id })),
        (id(), vec(message(), 0..3)).prop_map(|(channel_id, messages)| {
            ServerEvent::MessagesLoaded(Box::new(MessagesLoaded {
                channel_id,
                messages,
            }))
        }),
    ]
}

pub fn frame<E: std::fmt::Debug>(
    event: impl Strategy<Value = E>,
) -> impl Strategy<Value = Frame<E>> {
    (event, of(any::<u32>()), of(any::<u64>())).prop_map(|(event, id, s)| Frame { event, id, s })
}
