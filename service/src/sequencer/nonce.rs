//! The nonce window of PROTOCOL.md section 6, in memory at the sequencer: a resend of
//! a recent (channel, author, nonce) is answered with the first message without
//! touching storage or the rate limit. Bounded in entries; storage's unique index on
//! (channel, author, nonce) answers whatever fell out of it.

use std::collections::{HashMap, VecDeque};

use protocol::{ChannelId, Message, UserId};

type Key = (ChannelId, UserId, String);

/// Recently committed messages by nonce.
#[derive(Debug)]
pub(crate) struct NonceWindow {
    window_ms: u64,
    capacity: usize,
    messages: HashMap<Key, Message>,
    order: VecDeque<(u64, Key)>,
}

impl NonceWindow {
    /// Remembers nonces for `window_ms`, at most `capacity` of them.
    pub(crate) fn new(window_ms: u64, capacity: usize) -> Self {
        Self {
            window_ms,
            capacity: capacity.max(1),
            messages: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// The message first sent with this nonce, if it is still in the window at `now`.
    pub(crate) fn get(
        &mut self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
        now: u64,
    ) -> Option<Message> {
        self.expire(now);
        self.messages
            .get(&(channel, author, nonce.to_owned()))
            .cloned()
    }

    /// Remembers a committed message that carried a nonce.
    pub(crate) fn insert(&mut self, message: &Message, now: u64) {
        let Some(nonce) = &message.nonce else {
            return;
        };
        let key = (message.channel_id, message.author.id, nonce.clone());
        if self.messages.len() >= self.capacity {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.messages.remove(&oldest);
            }
        }
        self.messages.insert(key.clone(), message.clone());
        self.order.push_back((now, key));
    }

    fn expire(&mut self, now: u64) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_sub(*at) < self.window_ms {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.messages.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use protocol::{MessageId, User};

    use super::*;

    fn message(nonce: &str) -> Message {
        Message {
            id: MessageId::new(1),
            channel_id: ChannelId::new(2),
            author: User {
                id: UserId::new(3),
                username: "ann".into(),
                display_name: "Ann".into(),
                status: None,
            },
            content: "hi".into(),
            created_at: 0,
            edited_at: None,
            reply_to: None,
            attachments: vec![],
            reactions: vec![],
            nonce: Some(nonce.into()),
        }
    }

    #[test]
    fn answers_within_the_window_and_forgets_after() {
        let mut w = NonceWindow::new(1000, 10);
        w.insert(&message("a"), 0);
        let (c, u) = (ChannelId::new(2), UserId::new(3));
        assert!(w.get(c, u, "a", 999).is_some());
        assert!(w.get(c, u, "b", 999).is_none());
        assert!(w.get(ChannelId::new(9), u, "a", 999).is_none());
        assert!(w.get(c, u, "a", 1000).is_none());
    }

    #[test]
    fn bounded_in_entries() {
        let mut w = NonceWindow::new(u64::MAX, 2);
        for n in ["a", "b", "c"] {
            w.insert(&message(n), 0);
        }
        let (c, u) = (ChannelId::new(2), UserId::new(3));
        assert!(w.get(c, u, "a", 0).is_none(), "the oldest made room");
        assert!(w.get(c, u, "c", 0).is_some());
    }
}
