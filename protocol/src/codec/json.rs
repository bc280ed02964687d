//! The JSON envelope: one object `{"t", "d", "id"?, "s"?}` per text message.
//!
//! Ids are decimal strings (see [`crate::ids`]); `id` and `s` are plain numbers. JSON
//! is the secondary encoding (browsers, bots, debugging), so decoding goes through a
//! `serde_json::Value`: simple, and `serde_json` already refuses invalid UTF-8,
//! trailing characters and runaway nesting (128 levels) before our own 32-level check.

use std::io::Write as _;

use serde_json::Value;

use super::{finish, reason, DecodeError, EncodeError};
use crate::events::{DataDecoder, DataVisitor, EventSet, Frame};
use crate::limits::MAX_NESTING_DEPTH;

/// Appends the envelope of `event` to `out`.
pub(super) fn encode<E: EventSet>(
    event: &E,
    id: Option<u32>,
    s: Option<u64>,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    out.extend_from_slice(b"{\"t\":");
    serde_json::to_writer(&mut *out, event.wire_name())?;
    out.extend_from_slice(b",\"d\":");
    event.visit_data(DataWriter(out))?;
    if let Some(id) = id {
        write!(out, ",\"id\":{id}")?;
    }
    if let Some(s) = s {
        write!(out, ",\"s\":{s}")?;
    }
    out.push(b'}');
    Ok(())
}

/// Decodes one envelope.
pub(super) fn decode<E: EventSet>(bytes: &[u8]) -> Result<Frame<E>, DecodeError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|err| DecodeError::Malformed(format!("not valid JSON: {err}")))?;
    if !shallow(&value, 1) {
        return Err(malformed("nested too deep"));
    }
    let Value::Object(mut map) = value else {
        return Err(malformed("the message is not an object"));
    };
    let t = match map.remove("t") {
        Some(Value::String(t)) => t,
        Some(_) => return Err(malformed("`t` is not a string")),
        None => return Err(malformed("`t` is missing")),
    };
    let d = match map.remove("d") {
        Some(d @ Value::Object(_)) => d,
        Some(_) => return Err(malformed("`d` is not an object")),
        None => return Err(malformed("`d` is missing")),
    };
    let id = match map.get("id") {
        None | Some(Value::Null) => None,
        Some(id) => Some(
            id.as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| malformed("`id` is not a uint32"))?,
        ),
    };
    let s = match map.get("s") {
        None | Some(Value::Null) => None,
        Some(s) => Some(s.as_u64().ok_or_else(|| malformed("`s` is not a uint64"))?),
    };
    finish(&t, DataReader(d), id, s)
}

/// Whether no array or object in `value` (at nesting `depth`) sits deeper than the limit.
/// Recursion is bounded by serde_json's own limit of 128.
fn shallow(value: &Value, depth: usize) -> bool {
    match value {
        Value::Array(items) => {
            depth <= MAX_NESTING_DEPTH && items.iter().all(|v| shallow(v, depth + 1))
        }
        Value::Object(map) => {
            depth <= MAX_NESTING_DEPTH && map.values().all(|v| shallow(v, depth + 1))
        }
        _ => true,
    }
}

/// Writes `d` with serde_json.
struct DataWriter<'a>(&'a mut Vec<u8>);

impl DataVisitor for DataWriter<'_> {
    type Output = serde_json::Result<()>;

    fn visit<T: serde::Serialize>(self, data: &T) -> Self::Output {
        serde_json::to_writer(self.0, data)
    }
}

/// Reads `d` from its parsed value.
struct DataReader(Value);

impl DataDecoder for DataReader {
    fn decode<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        serde_path_to_error::deserialize(self.0).map_err(reason)
    }
}

fn malformed(reason: &str) -> DecodeError {
    DecodeError::Malformed(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_limit_is_exact() {
        let nested = |levels: usize| {
            format!(
                r#"{{"t":"PING","d":{{}},"x":{}{}}}"#,
                "[".repeat(levels),
                "]".repeat(levels)
            )
        };
        // The envelope is level 1, so `x`'s outermost array is level 2.
        assert!(shallow(
            &serde_json::from_str(&nested(MAX_NESTING_DEPTH - 1)).unwrap(),
            1
        ));
        assert!(!shallow(
            &serde_json::from_str(&nested(MAX_NESTING_DEPTH)).unwrap(),
            1
        ));
    }

    #[test]
    fn id_and_s_must_be_unsigned_integers() {
        for (json, ok) in [
            (r#"{"t":"PING","d":{},"id":4294967295}"#, true),
            (r#"{"t":"PING","d":{},"id":null,"s":null}"#, true),
            (r#"{"t":"PING","d":{},"id":4294967296}"#, false),
            (r#"{"t":"PING","d":{},"id":-1}"#, false),
            (r#"{"t":"PING","d":{},"id":1.0}"#, false),
            (r#"{"t":"PING","d":{},"id":"1"}"#, false),
            (r#"{"t":"PING","d":{},"s":18446744073709551615}"#, true),
            (r#"{"t":"PING","d":{},"s":-3}"#, false),
        ] {
            let result = decode::<crate::events::ClientEvent>(json.as_bytes());
            assert_eq!(result.is_ok(), ok, "{json}: {result:?}");
        }
    }
}
