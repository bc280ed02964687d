//! Serde helpers for request bodies, where JSON's number model and Rust's differ.
//!
//! JSON Schema (and so the OpenAPI document) calls any number without a fractional
//! part an `integer`, `5.0` included; serde's `u64` takes only `5`. A field that the
//! document describes as an integer is read with these, so a client that writes
//! `5.0` is not refused.

use serde::de::{self, Deserializer, Visitor};

/// The largest integer an `int64` field holds.
const INT64_MAX: u64 = i64::MAX.unsigned_abs();

/// An optional non-negative `int64`: absent or `null` is `None`; `5` and `5.0` are 5.
pub fn opt_int64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_option(OptInt64)
}

struct OptInt64;

impl<'de> Visitor<'de> for OptInt64 {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "an integer 0-{INT64_MAX} or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        if v > INT64_MAX {
            return Err(E::invalid_value(de::Unexpected::Unsigned(v), &self));
        }
        Ok(Some(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v)
            .map(Some)
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // 2^63 is the first float above INT64_MAX; every float below it is exact here.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.is_finite() && v.fract() == 0.0 && (0.0..LIMIT).contains(&v) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            return Ok(Some(v as u64));
        }
        Err(E::invalid_value(de::Unexpected::Float(v), &self))
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "opt_int64")]
        until: Option<u64>,
    }

    fn until(json: &str) -> Result<Option<u64>, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|b| b.until)
    }

    #[test]
    fn integers_as_json_schema_counts_them() {
        assert_eq!(until("{}").unwrap(), None);
        assert_eq!(until(r#"{"until": null}"#).unwrap(), None);
        assert_eq!(until(r#"{"until": 5}"#).unwrap(), Some(5));
        assert_eq!(until(r#"{"until": 202.0}"#).unwrap(), Some(202));
        assert_eq!(until(r#"{"until": 1e3}"#).unwrap(), Some(1000));
        assert_eq!(
            until(r#"{"until": 9223372036854775807}"#).unwrap(),
            Some(INT64_MAX)
        );
        for bad in [
            "-1",
            "0.5",
            "-0.5",
            "9223372036854775808",
            "9.3e18",
            "1e400",
            "\"5\"",
            "true",
        ] {
            assert!(until(&format!(r#"{{"until": {bad}}}"#)).is_err(), "{bad}");
        }
    }
}
