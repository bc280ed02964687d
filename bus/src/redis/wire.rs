//! How publications travel through Redis: a compact MessagePack record per
//! publication, carrying the event's envelope bytes as they were encoded once by the
//! publisher (a receiving node frames those same bytes and decodes them only to learn
//! what the event does to its fanout index).
//!
//! ```text
//! message = [entry, ...]                      one PUBLISH per topic per batch
//! entry   = [kind, id, [except...], offset|nil, envelope(bin)]
//!           kind 0: channel `id`, except users; kind 1: user `id`
//! ```
//!
//! A replay-set member is one `entry` (its score is the offset).

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use protocol::codec::{self, Encoding};
use protocol::{ChannelId, UserId};
use rmp::decode as dec;
use rmp::encode as enc;

use crate::{Publication, Target, Topic};

const KIND_CHANNEL: u8 = 0;
const KIND_USER: u8 = 1;

/// A message that is not one of ours (another program on the same Redis, or a bug).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed bus message: {0}")]
pub struct WireError(pub String);

fn bad(what: impl std::fmt::Display) -> WireError {
    WireError(what.to_string())
}

/// Appends one entry for `publication`, addressed to `kind`/`id`.
fn write_entry(out: &mut Vec<u8>, kind: u8, id: u64, except: &[UserId], p: &Publication) {
    // Writing into a Vec cannot fail.
    let _ = enc::write_array_len(out, 5);
    let _ = enc::write_uint(out, u64::from(kind));
    let _ = enc::write_uint(out, id);
    let _ = enc::write_array_len(out, except.len() as u32);
    for user in except {
        let _ = enc::write_uint(out, user.get());
    }
    match p.offset {
        Some(offset) => {
            let _ = enc::write_uint(out, offset);
        }
        None => {
            let _ = enc::write_nil(out);
        }
    }
    let _ = enc::write_bin(out, &p.msgpack);
}

/// One entry for a channel publication (a replay-set member, or part of a message).
pub fn channel_entry(channel: ChannelId, except: &[UserId], p: &Publication) -> Vec<u8> {
    let mut out = Vec::with_capacity(p.msgpack.len() + 32);
    write_entry(&mut out, KIND_CHANNEL, channel.get(), except, p);
    out
}

/// The messages of a batch, one per topic (by topic name), each holding its
/// publications in batch order. A publication to several users is narrowed to each
/// user's topic, so a node following two of them still delivers it once per user.
pub fn messages(batch: &[Arc<Publication>], name: &dyn Fn(Topic) -> String) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    let mut index: HashMap<Topic, usize> = HashMap::new();
    for p in batch {
        match &p.target {
            Target::Channel { channel, except } => {
                let m = slot(&mut out, &mut index, Topic::Channel(*channel), name);
                write_entry(&mut m.body, KIND_CHANNEL, channel.get(), except, p);
                m.count += 1;
            }
            Target::Users(users) => {
                for user in users {
                    let m = slot(&mut out, &mut index, Topic::User(*user), name);
                    write_entry(&mut m.body, KIND_USER, user.get(), &[], p);
                    m.count += 1;
                }
            }
        }
    }
    for m in &mut out {
        let mut framed = Vec::with_capacity(m.body.len() + 5);
        let _ = enc::write_array_len(&mut framed, m.count);
        framed.extend_from_slice(&m.body);
        m.body = framed;
    }
    out
}

/// The message of `topic` in `out`, added if missing.
fn slot<'a>(
    out: &'a mut Vec<Message>,
    index: &mut HashMap<Topic, usize>,
    topic: Topic,
    name: &dyn Fn(Topic) -> String,
) -> &'a mut Message {
    let i = match index.get(&topic) {
        Some(&i) => i,
        None => {
            index.insert(topic, out.len());
            out.push(Message {
                topic: name(topic),
                channel: match topic {
                    Topic::Channel(c) => Some(c),
                    Topic::User(_) => None,
                },
                count: 0,
                body: Vec::new(),
            });
            out.len() - 1
        }
    };
    &mut out[i]
}

/// One PUBLISH: the topic's name and the encoded entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The Redis channel name.
    pub topic: String,
    /// The chat channel, for channel topics.
    pub channel: Option<ChannelId>,
    count: u32,
    /// `[entry, ...]`.
    pub body: Vec<u8>,
}

/// Decodes a message (`[entry, ...]`) received on a topic.
pub fn decode_message(bytes: &Bytes) -> Result<Vec<Publication>, WireError> {
    let mut rd = bytes.as_ref();
    let len = dec::read_array_len(&mut rd).map_err(bad)?;
    let mut out = Vec::with_capacity((len as usize).min(rd.len()));
    for _ in 0..len {
        let consumed = bytes.len() - rd.len();
        let (p, used) = decode_at(bytes, consumed)?;
        out.push(p);
        rd = &bytes[consumed + used..];
    }
    if !rd.is_empty() {
        return Err(bad("trailing bytes"));
    }
    Ok(out)
}

/// Decodes one entry (a replay-set member).
pub fn decode_entry(bytes: &Bytes) -> Result<Publication, WireError> {
    let (p, used) = decode_at(bytes, 0)?;
    if used != bytes.len() {
        return Err(bad("trailing bytes"));
    }
    Ok(p)
}

/// Decodes the entry starting at `start`; returns it and the bytes it took. The
/// envelope is a zero-copy slice of `bytes`.
fn decode_at(bytes: &Bytes, start: usize) -> Result<(Publication, usize), WireError> {
    let mut rd = &bytes[start..];
    let before = rd.len();
    if dec::read_array_len(&mut rd).map_err(bad)? != 5 {
        return Err(bad("an entry has 5 fields"));
    }
    let kind: u8 = dec::read_int(&mut rd).map_err(bad)?;
    let id: u64 = dec::read_int(&mut rd).map_err(bad)?;
    let n = dec::read_array_len(&mut rd).map_err(bad)?;
    if n as usize > rd.len() {
        return Err(bad("except list longer than the message"));
    }
    let mut except = Vec::with_capacity(n as usize);
    for _ in 0..n {
        except.push(UserId::new(dec::read_int(&mut rd).map_err(bad)?));
    }
    let offset = if rd.first() == Some(&0xc0) {
        rd = &rd[1..];
        None
    } else {
        Some(dec::read_int::<u64, _>(&mut rd).map_err(bad)?)
    };
    let len = dec::read_bin_len(&mut rd).map_err(bad)? as usize;
    if len > rd.len() {
        return Err(bad("envelope longer than the message"));
    }
    let envelope_start = start + (before - rd.len());
    let msgpack = bytes.slice(envelope_start..envelope_start + len);
    rd = &rd[len..];
    let used = before - rd.len();
    let target = match kind {
        KIND_CHANNEL => Target::Channel {
            channel: ChannelId::new(id),
            except,
        },
        KIND_USER => Target::Users(vec![UserId::new(id)]),
        other => return Err(bad(format!("unknown kind {other}"))),
    };
    let frame = codec::decode_server(&msgpack, Encoding::MsgPack).map_err(bad)?;
    Ok((
        Publication {
            target,
            offset,
            event: frame.event,
            msgpack,
        },
        used,
    ))
}

#[cfg(test)]
mod tests {
    use protocol::events::client::Empty;
    use protocol::events::ServerEvent;

    use super::*;

    fn name(topic: Topic) -> String {
        match topic {
            Topic::Channel(c) => format!("c:{}", c.get()),
            Topic::User(u) => format!("u:{}", u.get()),
        }
    }

    fn pong() -> ServerEvent {
        ServerEvent::Pong(Empty {})
    }

    #[test]
    fn a_batch_becomes_one_message_per_topic_and_decodes_back() {
        let c1 = ChannelId::new(1);
        let batch: Vec<Arc<Publication>> = vec![
            Arc::new(Publication::channel_event(c1, 7, pong())),
            Arc::new(Publication::to_users(
                vec![UserId::new(5), UserId::new(6)],
                pong(),
            )),
            Arc::new(Publication::ephemeral(c1, vec![UserId::new(9)], pong())),
            Arc::new(Publication::channel_event(c1, 8, pong())),
        ];
        let messages = messages(&batch, &name);
        let topics: Vec<&str> = messages.iter().map(|m| m.topic.as_str()).collect();
        assert_eq!(topics, ["c:1", "u:5", "u:6"]);
        let on_c1 = decode_message(&Bytes::from(messages[0].body.clone())).unwrap();
        assert_eq!(on_c1.len(), 3);
        assert_eq!(on_c1[0], *batch[0]);
        assert_eq!(on_c1[1], *batch[2], "except list and no offset kept");
        assert_eq!(on_c1[2], *batch[3]);
        let on_u6 = decode_message(&Bytes::from(messages[2].body.clone())).unwrap();
        assert_eq!(on_u6.len(), 1);
        assert_eq!(
            on_u6[0].target,
            Target::Users(vec![UserId::new(6)]),
            "narrowed"
        );
        assert_eq!(on_u6[0].msgpack, batch[1].msgpack);
    }

    #[test]
    fn a_replay_set_member_round_trips() {
        let p = Publication::channel_event(ChannelId::new(3), 41, pong());
        let entry = channel_entry(ChannelId::new(3), &[], &p);
        assert_eq!(decode_entry(&Bytes::from(entry)).unwrap(), p);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let p = Publication::channel_event(ChannelId::new(3), 41, pong());
        let entry = channel_entry(ChannelId::new(3), &[], &p);
        for cut in 0..entry.len() {
            assert!(decode_entry(&Bytes::copy_from_slice(&entry[..cut])).is_err());
        }
        let mut long = entry.clone();
        long.push(0);
        assert!(decode_entry(&Bytes::from(long)).is_err());
        assert!(decode_message(&Bytes::from_static(b"\x91\x95\x07")).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = decode_message(&Bytes::from(bytes.clone()));
            let _ = decode_entry(&Bytes::from(bytes));
        }
    }
}
