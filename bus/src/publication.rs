//! [`Publication`]: one event on its way to the gateways, encoded once by its publisher.

use std::sync::Arc;

use bytes::Bytes;
use protocol::codec::{self, Encoding};
use protocol::events::ServerEvent;
use protocol::{ChannelId, UserId};

use crate::Topic;

/// Who receives a publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every session of every member of the channel, but those of `except`.
    Channel {
        /// The channel.
        channel: ChannelId,
        /// Users left out (typing: the typist and those who blocked them). Always
        /// empty for channel events, which every member receives.
        except: Vec<UserId>,
    },
    /// Every session of these users.
    Users(Vec<UserId>),
}

/// One event on its way to the gateways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    /// Who receives it.
    pub target: Target,
    /// The channel offset, for channel events (stamped as `s`).
    pub offset: Option<u64>,
    /// The event.
    pub event: ServerEvent,
    /// The MessagePack envelope `{t, d, s?}` of `event`, encoded once here: every
    /// shard and node frames these bytes without encoding again.
    pub msgpack: Bytes,
}

/// Publications committed or made together, in order; shared by every subscriber.
pub type Batch = Arc<[Arc<Publication>]>;

impl Publication {
    /// A publication to `target`, encoded now.
    pub fn new(target: Target, offset: Option<u64>, event: ServerEvent) -> Self {
        let mut payload = Vec::with_capacity(256);
        codec::encode_server(&event, None, offset, Encoding::MsgPack, &mut payload);
        Self {
            target,
            offset,
            event,
            msgpack: Bytes::from(payload),
        }
    }

    /// A channel event with its offset: every member receives it.
    pub fn channel_event(channel: ChannelId, offset: u64, event: ServerEvent) -> Self {
        let target = Target::Channel {
            channel,
            except: Vec::new(),
        };
        Self::new(target, Some(offset), event)
    }

    /// An ephemeral event to the channel's members but `except`.
    pub fn ephemeral(channel: ChannelId, except: Vec<UserId>, event: ServerEvent) -> Self {
        Self::new(Target::Channel { channel, except }, None, event)
    }

    /// An event to these users' sessions.
    pub fn to_users(users: Vec<UserId>, event: ServerEvent) -> Self {
        Self::new(Target::Users(users), None, event)
    }

    /// The channel of a channel-targeted publication.
    pub fn channel(&self) -> Option<ChannelId> {
        match &self.target {
            Target::Channel { channel, .. } => Some(*channel),
            Target::Users(_) => None,
        }
    }

    /// Whether a subscriber of `topic` must receive this publication.
    pub fn touches(&self, topic: &Topic) -> bool {
        match (&self.target, topic) {
            (Target::Channel { channel, .. }, Topic::Channel(c)) => channel == c,
            (Target::Users(users), Topic::User(u)) => users.contains(u),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use protocol::events::client::Empty;

    use super::*;

    #[test]
    fn encodes_once_with_the_offset_as_s() {
        let p = Publication::channel_event(ChannelId::new(5), 9, ServerEvent::Pong(Empty {}));
        let frame = codec::decode_server(&p.msgpack, Encoding::MsgPack).unwrap();
        assert_eq!(frame.s, Some(9));
        assert_eq!(frame.event, ServerEvent::Pong(Empty {}));
        assert!(p.touches(&Topic::Channel(ChannelId::new(5))));
        assert!(!p.touches(&Topic::Channel(ChannelId::new(6))));
        let u = Publication::to_users(vec![UserId::new(1)], ServerEvent::Pong(Empty {}));
        assert_eq!(
            codec::decode_server(&u.msgpack, Encoding::MsgPack)
                .unwrap()
                .s,
            None
        );
        assert!(u.touches(&Topic::User(UserId::new(1))));
        assert!(!u.touches(&Topic::User(UserId::new(2))));
    }
}
