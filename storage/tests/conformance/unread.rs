//! Unread counts (PROTOCOL.md section 3: other members' undeleted messages after
//! `last_read_message_id`) against a brute-force count of a model, over many random
//! sequences of sends by several authors (one at a time and in batches, sometimes with
//! ids older than the channel's newest, sometimes repeating an id so the item fails),
//! deletes, and read receipts at random positions: message ids (deleted or not), ids
//! between messages, before the first and after the last.

use std::collections::HashMap;

use protocol::{ChannelId, MessageId, UserId};
use storage::{DynStore, EventWrite};

use crate::support::{group, new_message, next_id, now_ms, user, Backend};

/// Random sequences per backend.
const SEQUENCES: u64 = 24;
/// Operations per sequence.
const STEPS: usize = 80;
/// Message ids available per channel and sequence.
const SLOTS: usize = 60;

/// SplitMix64: small, seedable, good enough to pick operations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }

    /// True with probability `percent`%.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A message as the model keeps it.
struct Sent {
    id: MessageId,
    author: UserId,
    deleted: bool,
}

/// One channel of the model: its ids (odd slots are messages, even slots lie between
/// them), what was sent, and each member's read position.
struct Model {
    channel: ChannelId,
    ids: Vec<MessageId>,
    unused: Vec<usize>,
    sent: Vec<Sent>,
    read: HashMap<UserId, MessageId>,
}

impl Model {
    fn new(channel: ChannelId) -> Self {
        // Fresh ids are increasing: slot i's id sorts before slot i + 1's.
        let ids: Vec<MessageId> = (0..2 * SLOTS + 2).map(|_| next_id()).collect();
        Self {
            channel,
            ids,
            unused: (0..SLOTS).map(|n| 2 * n + 1).collect(),
            sent: Vec::new(),
            read: HashMap::new(),
        }
    }

    /// An id for a new message: usually the oldest unused one (so, after an earlier
    /// jump ahead, older than the channel's newest), sometimes a random one.
    fn take_id(&mut self, rng: &mut Rng) -> Option<MessageId> {
        if self.unused.is_empty() {
            return None;
        }
        let at = if rng.chance(20) {
            rng.below(self.unused.len())
        } else {
            0
        };
        Some(self.ids[self.unused.remove(at)])
    }

    /// The brute-force count.
    fn unread(&self, viewer: UserId) -> u32 {
        let after = self.read.get(&viewer).copied();
        let count = self
            .sent
            .iter()
            .filter(|m| after.is_none_or(|read| m.id > read) && m.author != viewer && !m.deleted)
            .count();
        u32::try_from(count).unwrap()
    }

    fn mark_read(&mut self, user: UserId, message: MessageId) {
        let read = self.read.entry(user).or_insert(message);
        *read = (*read).max(message);
    }
}

/// `unread_count` matches a brute-force count after every step of many random
/// sequences, in every way a channel is viewed.
pub async fn unread_count_matches_brute_force(b: &Backend) {
    for seed in 0..SEQUENCES {
        sequence(&b.store, seed).await;
    }
}

async fn sequence(store: &DynStore, seed: u64) {
    let mut rng = Rng(seed);
    let mut members = Vec::new();
    for _ in 0..4 {
        members.push(user(store).await.id);
    }
    let outsider = user(store).await.id;
    let mut models = Vec::new();
    for _ in 0..2 {
        let channel = group(store, members[0], &members[1..]).await.id;
        models.push(Model::new(channel));
    }

    for step in 0..STEPS {
        let at = rng.below(models.len());
        let model = &mut models[at];
        let choice = rng.below(100);
        if choice < 30 {
            // One message.
            let author = members[rng.below(members.len())];
            if let Some(id) = model.take_id(&mut rng) {
                let mut new = new_message(model.channel, author, "one");
                new.id = id;
                store.create_message(new).await.unwrap();
                model.sent.push(Sent {
                    id,
                    author,
                    deleted: false,
                });
            }
        } else if choice < 45 {
            // A batch: sends, a delete, and perhaps an id already taken (fails alone).
            let mut batch = Vec::new();
            let mut expect = Vec::new();
            for _ in 0..1 + rng.below(4) {
                let author = members[rng.below(members.len())];
                if rng.chance(15) && !model.sent.is_empty() {
                    let taken = model.sent[rng.below(model.sent.len())].id;
                    let mut new = new_message(model.channel, author, "again");
                    new.id = taken;
                    batch.push(EventWrite::CreateMessage(new));
                    expect.push(None);
                } else if rng.chance(20) && !model.sent.is_empty() {
                    let at = rng.below(model.sent.len());
                    batch.push(EventWrite::DeleteMessage {
                        channel: model.channel,
                        id: model.sent[at].id,
                        deleted_at: now_ms(),
                    });
                    model.sent[at].deleted = true;
                    expect.push(Some(()));
                } else if let Some(id) = model.take_id(&mut rng) {
                    let mut new = new_message(model.channel, author, "batched");
                    new.id = id;
                    batch.push(EventWrite::CreateMessage(new));
                    model.sent.push(Sent {
                        id,
                        author,
                        deleted: false,
                    });
                    expect.push(Some(()));
                }
            }
            let outcomes = store.append_events(batch).await.unwrap();
            assert_eq!(outcomes.len(), expect.len());
            for (outcome, expected) in outcomes.iter().zip(&expect) {
                assert_eq!(
                    outcome.is_ok(),
                    expected.is_some(),
                    "seed {seed} step {step}"
                );
            }
        } else if choice < 60 {
            // A delete (deleting twice is a no-op).
            if !model.sent.is_empty() {
                let at = rng.below(model.sent.len());
                store
                    .delete_message(model.sent[at].id, now_ms())
                    .await
                    .unwrap();
                model.sent[at].deleted = true;
            }
        } else {
            // A receipt anywhere: a message (deleted or not), between messages, before
            // the first, after the last.
            let reader = members[rng.below(members.len())];
            let position = model.ids[rng.below(model.ids.len())];
            store
                .mark_read(model.channel, reader, position)
                .await
                .unwrap();
            model.mark_read(reader, position);
        }

        check_member_views(store, &models[at], seed, step).await;
        if rng.chance(10) || step + 1 == STEPS {
            check_everywhere(store, &models, &members, outsider, seed, step).await;
        }
    }
}

/// `member_views` of the channel against the model.
async fn check_member_views(store: &DynStore, model: &Model, seed: u64, step: usize) {
    for (member, view) in store.member_views(model.channel).await.unwrap() {
        assert_eq!(
            view.unread_count,
            model.unread(member),
            "member_views, seed {seed} step {step}"
        );
        assert_eq!(
            view.last_read_message_id,
            model.read.get(&member).copied(),
            "seed {seed} step {step}"
        );
    }
}

/// `channel_for` (members and an outsider) and `channels_for_user` against the model.
async fn check_everywhere(
    store: &DynStore,
    models: &[Model],
    members: &[UserId],
    outsider: UserId,
    seed: u64,
    step: usize,
) {
    for model in models {
        for &member in members {
            let view = store
                .channel_for(model.channel, member)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                view.unread_count,
                model.unread(member),
                "channel_for, seed {seed} step {step}"
            );
        }
        let outside = store
            .channel_for(model.channel, outsider)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(outside.unread_count, 0, "outsiders see no unread messages");
    }
    for &member in members {
        let views = store.channels_for_user(member).await.unwrap();
        assert_eq!(views.len(), models.len());
        for view in views {
            let model = models.iter().find(|m| m.channel == view.id).unwrap();
            assert_eq!(
                view.unread_count,
                model.unread(member),
                "channels_for_user, seed {seed} step {step}"
            );
        }
    }
}
