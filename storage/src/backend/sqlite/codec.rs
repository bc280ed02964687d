//! Conversions between Rust values and SQLite columns: ids, enums, times, id lists and
//! LIKE patterns.
//!
//! SQLite integers are signed 64-bit. Snowflakes stay below 2^63, so an id is stored
//! as its value; a value that does not fit is refused on insert ([`new_id`]) and
//! saturated in lookups ([`id`]), where it can match nothing anyway.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use protocol::{ChannelKind, Id, Role, Visibility};

use crate::error::{Result, StoreError};

/// An id or time for a lookup or comparison (saturating).
pub(crate) fn id<M>(value: Id<M>) -> i64 {
    int(value.get())
}

/// An unsigned value (time, size) as an SQLite integer (saturating).
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// An id for a new row: refused when it does not fit, so ordering stays exact.
pub(crate) fn new_id<M>(value: Id<M>, field: &str) -> Result<i64> {
    i64::try_from(value.get()).map_err(|_| StoreError::Invalid(format!("{field}: id out of range")))
}

/// An SQLite integer back as an id (negative values cannot be stored by us).
pub(crate) fn to_id<M>(value: i64) -> Id<M> {
    Id::new(to_u64(value))
}

/// An SQLite integer back as an unsigned value.
pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// An SQLite integer back as a count or dimension.
pub(crate) fn to_u32(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(if value < 0 { 0 } else { u32::MAX })
}

/// Ids as a JSON array, bound as one parameter and read with `json_each`, so a query
/// over a list of ids is one cached statement whatever the list's length.
pub(crate) fn id_list<M>(ids: impl IntoIterator<Item = Id<M>>) -> String {
    let mut out = String::from("[");
    for (i, value) in ids.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing to a String cannot fail.
        let _ = write!(out, "{}", id(value));
    }
    out.push(']');
    out
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A channel name folded for case-insensitive search.
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

/// A display name as searchable words: `" word1 word2"`, lowercased, so "prefix of
/// any word" is `LIKE '% query%'`.
pub(crate) fn name_words(display_name: &str) -> String {
    let mut out = String::new();
    for word in display_name.split_whitespace() {
        out.push(' ');
        out.push_str(&word.to_lowercase());
    }
    out
}

/// Milliseconds since the Unix epoch (for mute expiry).
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The stored name of a channel kind.
pub(crate) fn kind_str(kind: ChannelKind) -> &'static str {
    kind.as_str()
}

/// A stored channel kind.
pub(crate) fn parse_kind(text: &str) -> Result<ChannelKind> {
    match text {
        "dm" => Ok(ChannelKind::Dm),
        "group" => Ok(ChannelKind::Group),
        "thread" => Ok(ChannelKind::Thread),
        other => Err(StoreError::Internal(format!(
            "unknown channel kind {other:?}"
        ))),
    }
}

/// A stored visibility.
pub(crate) fn parse_visibility(text: &str) -> Result<Visibility> {
    match text {
        "public" => Ok(Visibility::Public),
        "private" => Ok(Visibility::Private),
        other => Err(StoreError::Internal(format!(
            "unknown visibility {other:?}"
        ))),
    }
}

/// A stored role.
pub(crate) fn parse_role(text: &str) -> Result<Role> {
    match text {
        "member" => Ok(Role::Member),
        "admin" => Ok(Role::Admin),
        "owner" => Ok(Role::Owner),
        other => Err(StoreError::Internal(format!("unknown role {other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use protocol::UserId;

    use super::*;

    #[test]
    fn ids_round_trip_and_saturate() {
        let small = UserId::new(42);
        assert_eq!(to_id::<protocol::ids::UserMarker>(id(small)), small);
        assert_eq!(id(UserId::new(u64::MAX)), i64::MAX);
        assert!(new_id(UserId::new(u64::MAX), "id").is_err());
        assert_eq!(new_id(small, "id").unwrap(), 42);
        assert_eq!(to_u64(-5), 0);
        assert_eq!(to_u32(-5), 0);
        assert_eq!(to_u32(i64::MAX), u32::MAX);
    }

    #[test]
    fn id_list_is_a_json_array() {
        assert_eq!(id_list::<protocol::ids::UserMarker>([]), "[]");
        assert_eq!(id_list([UserId::new(1), UserId::new(22)]), "[1,22]");
    }

    #[test]
    fn like_escape_and_name_words() {
        assert_eq!(like_escape("a_b%c\\"), "a\\_b\\%c\\\\");
        assert_eq!(name_words("  Ada  LOVELACE "), " ada lovelace");
        assert_eq!(fold("ÉCOLE"), "école");
    }

    #[test]
    fn enums_parse_their_wire_names() {
        for kind in [ChannelKind::Dm, ChannelKind::Group, ChannelKind::Thread] {
            assert_eq!(parse_kind(kind_str(kind)).unwrap(), kind);
        }
        for vis in [Visibility::Public, Visibility::Private] {
            assert_eq!(parse_visibility(vis.as_str()).unwrap(), vis);
        }
        for role in [Role::Member, Role::Admin, Role::Owner] {
            assert_eq!(parse_role(role.as_str()).unwrap(), role);
        }
        assert!(parse_kind("nope").is_err());
    }
}
