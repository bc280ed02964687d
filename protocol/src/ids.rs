//! Typed 64-bit Snowflake ids.
//!
//! `Id<ChannelMarker>` and `Id<UserMarker>` are distinct types, so a user id can never be
//! passed where a channel id is expected. On the wire an id is a MessagePack uint64, and
//! a decimal string in JSON (JavaScript numbers cannot hold 64 bits). The choice is made
//! by serde's `is_human_readable()`: true for JSON, false for MessagePack. Decoding takes
//! either form from either format, so a client that sends a number in JSON still works.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Marker for user ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserMarker {}
/// Marker for channel ids (DMs, groups and threads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelMarker {}
/// Marker for message ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageMarker {}
/// Marker for attachment ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AttachmentMarker {}

/// A user id.
pub type UserId = Id<UserMarker>;
/// A channel id.
pub type ChannelId = Id<ChannelMarker>;
/// A message id.
pub type MessageId = Id<MessageMarker>;
/// An attachment id.
pub type AttachmentId = Id<AttachmentMarker>;

/// A Snowflake id tagged with the kind of thing it names.
pub struct Id<M> {
    value: u64,
    marker: PhantomData<fn() -> M>,
}

impl<M> Id<M> {
    /// Wraps a raw value.
    pub const fn new(value: u64) -> Self {
        Self {
            value,
            marker: PhantomData,
        }
    }

    /// The raw 64-bit value.
    pub const fn get(self) -> u64 {
        self.value
    }

    /// Reinterprets the id as another kind (e.g. a message id that roots a thread).
    pub const fn cast<N>(self) -> Id<N> {
        Id::new(self.value)
    }
}

impl<M> Clone for Id<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Id<M> {}
impl<M> PartialEq for Id<M> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<M> Eq for Id<M> {}
impl<M> PartialOrd for Id<M> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Id<M> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}
impl<M> Hash for Id<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}
impl<M> fmt::Debug for Id<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.value)
    }
}
impl<M> fmt::Display for Id<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)
    }
}
impl<M> From<u64> for Id<M> {
    fn from(value: u64) -> Self {
        Self::new(value)
    }
}
impl<M> FromStr for Id<M> {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self::new)
    }
}

impl<M> Serialize for Id<M> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&self.value)
        } else {
            serializer.serialize_u64(self.value)
        }
    }
}

impl<'de, M> Deserialize<'de> for Id<M> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor<M>(PhantomData<fn() -> M>);
        impl<M> Visitor<'_> for IdVisitor<M> {
            type Value = Id<M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an id (uint64 or decimal string)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Id::new(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u64::try_from(v)
                    .map(Id::new)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse::<u64>()
                    .map(Id::new)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        deserializer.deserialize_any(IdVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_uses_strings_msgpack_uses_uint64() {
        let id = ChannelId::new(1 << 60);
        assert_eq!(
            serde_json::to_string(&id).unwrap(),
            "\"1152921504606846976\""
        );
        let packed = rmp_serde::to_vec(&id).unwrap();
        assert_eq!(packed[0], 0xcf, "uint64 marker");
        let back: ChannelId = rmp_serde::from_slice(&packed).unwrap();
        assert_eq!(back, id);
        let from_json: ChannelId = serde_json::from_str("\"1152921504606846976\"").unwrap();
        assert_eq!(from_json, id);
    }

    #[test]
    fn rejects_negative_and_garbage() {
        assert!(serde_json::from_str::<UserId>("-1").is_err());
        assert!(serde_json::from_str::<UserId>("\"12a\"").is_err());
        assert!(serde_json::from_str::<UserId>("1.5").is_err());
    }
}
