//! PROTOCOL.md envelopes in MessagePack, written from the contract with `rmp`/`rmpv`.
//!
//! Deliberately not the server's `protocol::codec`: if that codec had a bug (a key
//! renamed, an id sent as a string), a client built on it would agree with the server
//! and the harness would pass. Encoding writes maps by hand into a caller-owned buffer;
//! decoding borrows from the received bytes (`rmpv::ValueRef`) and extracts only what
//! the checks need, so one client process can keep up with hundreds of thousands of
//! deliveries per second. Not a general client library: only the events the scenarios
//! send, and only the fields they read.

use anyhow::{anyhow, Context};
use rmpv::ValueRef;

/// Prefix of every message content the harness sends: `lt:<sent micros>:<run>:...`.
const CONTENT_PREFIX: &str = "lt:";

/// One client request, as the scenarios send them.
#[derive(Debug, Clone)]
pub enum Request<'a> {
    /// `IDENTIFY {token, positions?}`.
    Identify {
        /// The API's JWT.
        token: &'a str,
        /// Channel offsets to resume from (reconnects).
        positions: &'a [(u64, u64)],
    },
    /// `PING {}`.
    Ping,
    /// `SEND_MESSAGE {channel_id, content, nonce}`.
    Send {
        /// Target channel.
        channel: u64,
        /// Text (carries the send time, see [`content`]).
        content: &'a str,
        /// Unique per run.
        nonce: &'a str,
    },
    /// `EDIT_MESSAGE {message_id, content}`.
    Edit {
        /// Own message.
        message: u64,
        /// New text.
        content: &'a str,
    },
    /// `ADD_REACTION {message_id, emoji}`.
    React {
        /// Any visible message.
        message: u64,
        /// The emoji.
        emoji: &'a str,
    },
    /// `START_TYPING {channel_id}`.
    Typing {
        /// The channel.
        channel: u64,
    },
    /// `MARK_AS_READ {channel_id, message_id}`.
    Read {
        /// The channel.
        channel: u64,
        /// Last read message.
        message: u64,
    },
}

impl Request<'_> {
    /// The event name (`t`).
    pub fn name(&self) -> &'static str {
        match self {
            Request::Identify { .. } => "IDENTIFY",
            Request::Ping => "PING",
            Request::Send { .. } => "SEND_MESSAGE",
            Request::Edit { .. } => "EDIT_MESSAGE",
            Request::React { .. } => "ADD_REACTION",
            Request::Typing { .. } => "START_TYPING",
            Request::Read { .. } => "MARK_AS_READ",
        }
    }
}

/// Appends the envelope `{t, d, id}` of `request` to `out`.
pub fn encode(request: &Request<'_>, id: u32, out: &mut Vec<u8>) {
    use rmp::encode::{write_map_len, write_str, write_u32, write_uint};
    // Writing into a Vec cannot fail; the results are ignored for that reason only.
    let _ = write_map_len(out, 3);
    let _ = write_str(out, "t");
    let _ = write_str(out, request.name());
    let _ = write_str(out, "id");
    let _ = write_u32(out, id);
    let _ = write_str(out, "d");
    let field_u64 = |out: &mut Vec<u8>, key: &str, value: u64| {
        let _ = write_str(out, key);
        let _ = write_uint(out, value);
    };
    let field_str = |out: &mut Vec<u8>, key: &str, value: &str| {
        let _ = write_str(out, key);
        let _ = write_str(out, value);
    };
    match request {
        Request::Identify { token, positions } => {
            let _ = write_map_len(out, if positions.is_empty() { 1 } else { 2 });
            field_str(out, "token", token);
            if !positions.is_empty() {
                let _ = write_str(out, "positions");
                let _ = write_map_len(out, positions.len() as u32);
                for &(channel, offset) in positions.iter() {
                    let _ = write_uint(out, channel);
                    let _ = write_uint(out, offset);
                }
            }
        }
        Request::Ping => {
            let _ = write_map_len(out, 0);
        }
        Request::Send {
            channel,
            content,
            nonce,
        } => {
            let _ = write_map_len(out, 3);
            field_u64(out, "channel_id", *channel);
            field_str(out, "content", content);
            field_str(out, "nonce", nonce);
        }
        Request::Edit { message, content } => {
            let _ = write_map_len(out, 2);
            field_u64(out, "message_id", *message);
            field_str(out, "content", content);
        }
        Request::React { message, emoji } => {
            let _ = write_map_len(out, 2);
            field_u64(out, "message_id", *message);
            field_str(out, "emoji", emoji);
        }
        Request::Typing { channel } => {
            let _ = write_map_len(out, 1);
            field_u64(out, "channel_id", *channel);
        }
        Request::Read { channel, message } => {
            let _ = write_map_len(out, 2);
            field_u64(out, "channel_id", *channel);
            field_u64(out, "message_id", *message);
        }
    }
}

/// A message content that carries its send time: `lt:<micros>:<run>:<padding>`.
pub fn content(sent_micros: u64, run: &str, len: usize) -> String {
    let mut text = format!("{CONTENT_PREFIX}{sent_micros}:{run}:");
    let header = text.len();
    while text.len() < len {
        text.push_str("lorem ipsum ");
    }
    text.truncate(len.max(header));
    text
}

/// The send time in a content made by [`content`] for this `run`, if it is one.
pub fn sent_micros(content: &str, run: &str) -> Option<u64> {
    let rest = content.strip_prefix(CONTENT_PREFIX)?;
    let (micros, rest) = rest.split_once(':')?;
    let (their_run, _) = rest.split_once(':')?;
    (their_run == run).then(|| micros.parse().ok()).flatten()
}

/// One server frame, borrowed from the received bytes.
#[derive(Debug)]
pub struct Inbound<'a> {
    /// `t`.
    pub t: &'a str,
    /// `id`, when the frame answers a request that carried one.
    pub id: Option<u32>,
    /// `s`, on channel events.
    pub s: Option<u64>,
    /// `d`.
    pub d: ValueRef<'a>,
}

/// Decodes one server envelope; a frame that breaks the contract's envelope rules is
/// an error (the checks count it as a protocol violation).
pub fn decode(bytes: &[u8]) -> anyhow::Result<Inbound<'_>> {
    let mut cursor = bytes;
    let value = rmpv::decode::read_value_ref(&mut cursor).context("not MessagePack")?;
    if !cursor.is_empty() {
        return Err(anyhow!(
            "{} trailing bytes after the envelope",
            cursor.len()
        ));
    }
    let ValueRef::Map(entries) = value else {
        return Err(anyhow!("envelope is not a map"));
    };
    let (mut t, mut id, mut s, mut d) = (None, None, None, None);
    for (key, value) in entries {
        match key_str(&key) {
            Some("t") => t = Some(as_str(&value).context("`t` is not a string")?),
            Some("id") => {
                let n = as_u64(&value).context("`id` is not an integer")?;
                id = Some(u32::try_from(n).context("`id` is not a uint32")?);
            }
            Some("s") => s = Some(as_u64(&value).context("`s` is not a uint64")?),
            Some("d") => d = Some(value),
            _ => {}
        }
    }
    let d = d.context("no `d`")?;
    if !matches!(d, ValueRef::Map(_)) {
        return Err(anyhow!("`d` is not a map"));
    }
    Ok(Inbound {
        t: t.context("no `t`")?,
        id,
        s,
        d,
    })
}

fn key_str<'a>(key: &ValueRef<'a>) -> Option<&'a str> {
    match key {
        ValueRef::String(s) => (*s).into_str(),
        _ => None,
    }
}

/// `map[key]`, for a map value.
pub fn get<'v, 'a>(map: &'v ValueRef<'a>, key: &str) -> Option<&'v ValueRef<'a>> {
    match map {
        ValueRef::Map(entries) => entries
            .iter()
            .find(|(k, _)| key_str(k) == Some(key))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// A string value.
pub fn as_str<'a>(value: &ValueRef<'a>) -> Option<&'a str> {
    key_str(value)
}

/// An unsigned integer value (ids are uint64 in MessagePack, never strings).
pub fn as_u64(value: &ValueRef<'_>) -> Option<u64> {
    match value {
        ValueRef::Integer(n) => n.as_u64(),
        _ => None,
    }
}

/// `map[a][b]...` as u64.
pub fn path_u64(map: &ValueRef<'_>, path: &[&str]) -> Option<u64> {
    let mut v = map;
    for key in path {
        v = get(v, key)?;
    }
    as_u64(v)
}

/// `map[a][b]...` as a string.
pub fn path_str<'a>(map: &ValueRef<'a>, path: &[&str]) -> Option<&'a str> {
    let mut v = map;
    for key in path {
        v = get(v, key)?;
    }
    as_str(v)
}

/// The channel a channel event belongs to: `d.channel_id` or `d.message.channel_id`.
pub fn event_channel(d: &ValueRef<'_>) -> Option<u64> {
    path_u64(d, &["channel_id"]).or_else(|| path_u64(d, &["message", "channel_id"]))
}

/// What READY says about the session.
#[derive(Debug, Default)]
pub struct Ready {
    /// The user's id.
    pub user: u64,
    /// Each channel's id and current offset.
    pub channels: Vec<(u64, u64)>,
    /// Channels that could not be replayed.
    pub resync: Vec<u64>,
    /// Announced heartbeat interval.
    pub heartbeat_ms: u64,
}

/// Reads READY's `d`.
pub fn ready(d: &ValueRef<'_>) -> anyhow::Result<Ready> {
    let user = path_u64(d, &["user", "id"]).context("READY without user.id")?;
    let heartbeat_ms =
        path_u64(d, &["heartbeat_interval_ms"]).context("READY without heartbeat_interval_ms")?;
    let mut channels = Vec::new();
    if let Some(ValueRef::Array(list)) = get(d, "channels") {
        for channel in list {
            let id = path_u64(channel, &["id"]).context("channel without id")?;
            let offset = path_u64(channel, &["offset"]).context("channel without offset")?;
            channels.push((id, offset));
        }
    } else {
        return Err(anyhow!("READY without channels"));
    }
    let resync = match get(d, "resync") {
        Some(ValueRef::Array(list)) => list.iter().filter_map(as_u64).collect(),
        _ => Vec::new(),
    };
    Ok(Ready {
        user,
        channels,
        resync,
        heartbeat_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_carries_the_send_time_of_this_run_only() {
        let c = content(1_234_567, "r1", 80);
        assert_eq!(c.len(), 80);
        assert_eq!(sent_micros(&c, "r1"), Some(1_234_567));
        assert_eq!(sent_micros(&c, "r2"), None);
        assert_eq!(sent_micros("hello", "r1"), None);
        let short = content(1, "run", 3);
        assert_eq!(sent_micros(&short, "run"), Some(1));
    }

    #[test]
    fn encoded_requests_are_contract_envelopes() -> anyhow::Result<()> {
        let mut out = Vec::new();
        encode(
            &Request::Identify {
                token: "tok",
                positions: &[(7, 3)],
            },
            9,
            &mut out,
        );
        let v = rmpv::decode::read_value(&mut &out[..])?;
        assert_eq!(v["t"].as_str(), Some("IDENTIFY"));
        assert_eq!(v["id"].as_u64(), Some(9));
        assert_eq!(v["d"]["token"].as_str(), Some("tok"));
        let positions = v["d"]["positions"].as_map().context("positions map")?;
        assert_eq!(positions[0].0.as_u64(), Some(7));
        assert_eq!(positions[0].1.as_u64(), Some(3));
        Ok(())
    }

    #[test]
    fn decodes_a_server_envelope_and_refuses_broken_ones() -> anyhow::Result<()> {
        let frame = rmpv::Value::Map(vec![
            ("t".into(), "MESSAGE_RECEIVED".into()),
            ("s".into(), 42u64.into()),
            ("extra".into(), rmpv::Value::Nil),
            (
                "d".into(),
                rmpv::Value::Map(vec![(
                    "message".into(),
                    rmpv::Value::Map(vec![
                        ("id".into(), 5u64.into()),
                        ("channel_id".into(), 7u64.into()),
                    ]),
                )]),
            ),
        ]);
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &frame)?;
        let inbound = decode(&bytes)?;
        assert_eq!(
            (inbound.t, inbound.s, inbound.id),
            ("MESSAGE_RECEIVED", Some(42), None)
        );
        assert_eq!(event_channel(&inbound.d), Some(7));
        assert_eq!(path_u64(&inbound.d, &["message", "id"]), Some(5));

        let mut bad = Vec::new();
        rmpv::encode::write_value(&mut bad, &rmpv::Value::Array(vec![]))?;
        assert!(decode(&bad).is_err(), "not a map");
        let mut no_d = Vec::new();
        rmpv::encode::write_value(&mut no_d, &rmpv::Value::Map(vec![("t".into(), "X".into())]))?;
        assert!(decode(&no_d).is_err(), "no d");
        Ok(())
    }
}
