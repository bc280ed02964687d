//! [`Params`]: query parameters, parsed one by one so an error names the parameter.
//!
//! Typed parameters (ids, `limit`) are exact: an empty value (`?before=`) or one with
//! spaces is a `400`, as the OpenAPI document's patterns say; leave the parameter out
//! instead. Text parameters (`q`) may be empty.

use std::collections::HashMap;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use protocol::limits;
use protocol::MessageId;
use storage::Page;

use crate::error::ApiError;

/// The query string as name -> value (the last value of a repeated name wins).
#[derive(Debug, Clone, Default)]
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(map)| Params(map))
            .map_err(|_| ApiError::bad_request("query", "could not be parsed"))
    }
}

impl Params {
    /// The parameter parsed as `T`, `None` when absent.
    pub fn opt<T: FromStr>(&self, name: &str, expected: &str) -> Result<Option<T>, ApiError> {
        let Some(value) = self.0.get(name) else {
            return Ok(None);
        };
        // `u64::from_str` takes a leading `+`; the document's patterns do not.
        if !value.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            return Err(ApiError::bad_request(name, format!("must be {expected}")));
        }
        value
            .parse()
            .map(Some)
            .map_err(|_| ApiError::bad_request(name, format!("must be {expected}")))
    }

    /// An id parameter.
    pub fn id<M>(&self, name: &str) -> Result<Option<protocol::Id<M>>, ApiError> {
        self.opt(name, "a decimal id")
    }

    /// A text parameter, empty when absent.
    pub fn text(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// `limit`: 1-100, default 50.
    pub fn limit(&self) -> Result<u32, ApiError> {
        let limit = self.opt::<u32>("limit", "a number 1-100")?;
        limits::validate_fetch_limit(limit).map_err(|e| ApiError(e.into()))
    }

    /// At most one of `before`, `after`, `around`.
    pub fn page(&self) -> Result<Page, ApiError> {
        let before = self.id::<protocol::ids::MessageMarker>("before")?;
        let after = self.id::<protocol::ids::MessageMarker>("after")?;
        let around: Option<MessageId> = self.id("around")?;
        let cursor =
            limits::validate_cursors(before, after, around).map_err(|e| ApiError(e.into()))?;
        Ok(cursor.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn limit_defaults_and_range() {
        assert_eq!(params(&[]).limit().unwrap(), 50);
        assert_eq!(params(&[("limit", "100")]).limit().unwrap(), 100);
        for bad in ["0", "101", "-1", "abc", "99999999999", "", " 5", "+5"] {
            let err = params(&[("limit", bad)]).limit().unwrap_err();
            assert!(
                err.0.message.starts_with("limit: "),
                "{bad}: {}",
                err.0.message
            );
        }
    }

    /// Found by schemathesis: `?after=` and `?before=+9` were taken (as absent, and
    /// as 9) although the document's id pattern refuses them.
    #[test]
    fn typed_values_are_exact() {
        for bad in ["", " 9", "9 ", "+9", "0x9"] {
            let err = params(&[("after", bad)]).page().unwrap_err();
            assert!(err.0.message.starts_with("after: "), "{bad:?}");
        }
        assert_eq!(params(&[("q", "")]).text("q"), "");
    }

    #[test]
    fn at_most_one_cursor() {
        assert_eq!(params(&[]).page().unwrap(), Page::Latest);
        assert_eq!(
            params(&[("before", "9")]).page().unwrap(),
            Page::Before(MessageId::new(9))
        );
        assert!(params(&[("before", "9"), ("after", "10")]).page().is_err());
        assert!(params(&[("around", "x")])
            .page()
            .unwrap_err()
            .0
            .message
            .starts_with("around: "));
    }
}
