//! The nonce window of PROTOCOL.md section 6, in memory at the sequencer: it knows
//! which (channel, author, nonce) were committed recently, so a resend skips the rate
//! limit (a client resending after a lost ACK must get its first message back, not
//! `RATE_LIMITED`). It keeps keys only: storage answers the resend with the first
//! message (its nonce check runs in the batch's transaction; the unique index on
//! (channel, author, nonce) is the backstop), as it does for whatever fell out of the
//! window. Keeping whole messages cost up to the content of every message of the last
//! ten minutes (a 30-minute soak at 40 messages/s held 15 MB of them).

use std::collections::{HashSet, VecDeque};

use protocol::{ChannelId, Message, UserId};

type Key = (ChannelId, UserId, String);

/// Recently committed nonces.
#[derive(Debug)]
pub(crate) struct NonceWindow {
    window_ms: u64,
    capacity: usize,
    keys: HashSet<Key>,
    order: VecDeque<(u64, Key)>,
}

impl NonceWindow {
    /// Remembers nonces for `window_ms`, at most `capacity` of them.
    pub(crate) fn new(window_ms: u64, capacity: usize) -> Self {
        Self {
            window_ms,
            capacity: capacity.max(1),
            keys: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// Whether this nonce was committed within the window at `now`.
    pub(crate) fn contains(
        &mut self,
        channel: ChannelId,
        author: UserId,
        nonce: &str,
        now: u64,
    ) -> bool {
        self.expire(now);
        self.keys.contains(&(channel, author, nonce.to_owned()))
    }

    /// Remembers a committed message that carried a nonce.
    pub(crate) fn insert(&mut self, message: &Message, now: u64) {
        let Some(nonce) = &message.nonce else {
            return;
        };
        let key = (message.channel_id, message.author.id, nonce.clone());
        if self.keys.len() >= self.capacity {
            if let Some((_, oldest)) = self.order.pop_front() {
                self.keys.remove(&oldest);
            }
        }
        if self.keys.insert(key.clone()) {
            self.order.push_back((now, key));
        }
    }

    fn expire(&mut self, now: u64) {
        while let Some((at, _)) = self.order.front() {
            if now.saturating_sub(*at) < self.window_ms {
                break;
            }
            if let Some((_, key)) = self.order.pop_front() {
                self.keys.remove(&key);
            }
        }
        if self.keys.capacity() > 64 && self.keys.len() < self.keys.capacity() / 4 {
            // A burst's table is not kept for the quiet that follows.
            self.keys.shrink_to(self.keys.len() * 2);
            self.order.shrink_to(self.order.len() * 2);
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
        assert!(w.contains(c, u, "a", 999));
        assert!(!w.contains(c, u, "b", 999));
        assert!(!w.contains(ChannelId::new(9), u, "a", 999));
        assert!(!w.contains(c, u, "a", 1000));
    }

    #[test]
    fn bounded_in_entries() {
        let mut w = NonceWindow::new(u64::MAX, 2);
        for n in ["a", "b", "c"] {
            w.insert(&message(n), 0);
        }
        let (c, u) = (ChannelId::new(2), UserId::new(3));
        assert!(!w.contains(c, u, "a", 0), "the oldest made room");
        assert!(w.contains(c, u, "c", 0));
    }

    #[test]
    fn expired_keys_give_their_memory_back() {
        let mut w = NonceWindow::new(1000, 100_000);
        for n in 0..10_000 {
            w.insert(&message(&n.to_string()), 0);
        }
        let (c, u) = (ChannelId::new(2), UserId::new(3));
        assert!(w.contains(c, u, "9999", 999));
        assert!(!w.contains(c, u, "9999", 1000));
        assert!(w.keys.capacity() <= 64, "{} slots kept", w.keys.capacity());
    }
}
