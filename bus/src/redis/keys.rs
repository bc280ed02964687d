//! Names of the Redis keys and pub/sub channels, all under one prefix.

use protocol::ChannelId;

use crate::Topic;

/// The names under a prefix (`l4:` by default).
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    /// Names under `prefix`.
    pub fn new(prefix: &str) -> Self {
        Self {
            prefix: prefix.to_owned(),
        }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The pub/sub channel of a topic.
    pub fn topic(&self, topic: Topic) -> String {
        match topic {
            Topic::Channel(c) => format!("{}c:{}", self.prefix, c.get()),
            Topic::User(u) => format!("{}u:{}", self.prefix, u.get()),
        }
    }

    /// The topic a pub/sub channel name stands for.
    pub fn parse_topic(&self, name: &str) -> Option<Topic> {
        let rest = name.strip_prefix(&self.prefix)?;
        let (kind, id) = rest.split_once(':')?;
        let id: u64 = id.parse().ok()?;
        match kind {
            "c" => Some(Topic::Channel(ChannelId::new(id))),
            "u" => Some(Topic::User(protocol::UserId::new(id))),
            _ => None,
        }
    }

    /// The sorted set of a channel's recent events (score: offset).
    pub fn replay_set(&self, channel: ChannelId) -> String {
        format!("{}r:{}", self.prefix, channel.get())
    }
}

#[cfg(test)]
mod tests {
    use protocol::UserId;

    use super::*;

    #[test]
    fn names_round_trip_and_stay_under_the_prefix() {
        let keys = Keys::new("t1:");
        for topic in [
            Topic::Channel(ChannelId::new(42)),
            Topic::User(UserId::new(7)),
        ] {
            let name = keys.topic(topic);
            assert!(name.starts_with("t1:"));
            assert_eq!(keys.parse_topic(&name), Some(topic));
        }
        assert_eq!(keys.parse_topic("t2:c:42"), None, "another prefix");
        assert_eq!(keys.parse_topic("t1:x:42"), None);
        assert_eq!(keys.parse_topic("t1:c:nope"), None);
        assert_eq!(keys.replay_set(ChannelId::new(5)), "t1:r:5");
    }
}
