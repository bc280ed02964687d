//! [`Json`]: a JSON body in, a JSON body out.
//!
//! In: the content type must be `application/json` (or `application/*+json`), else
//! `415`; a body over the limit is `413`; bad JSON, a missing field or a wrong type is
//! `400` with the field named (through `serde_path_to_error`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// A JSON request body (as an extractor) or response body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A JSON request body that may be absent: an empty body, or a JSON `null`, is
/// `T::default()` (the document describes such a body as optional and nullable).
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(unsupported());
        }
        let bytes = read(req, state).await?;
        parse(&bytes).map(Json)
    }
}

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let json = is_json(req.headers());
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !json {
            return Err(unsupported());
        }
        if bytes.trim_ascii() == b"null" {
            return Ok(OptionalJson(T::default()));
        }
        parse(&bytes).map(OptionalJson)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

fn unsupported() -> ApiError {
    ApiError::new(
        ErrorCode::UnsupportedMediaType,
        "content-type: expected application/json",
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ErrorCode::TooLarge, "body: larger than the size limit")
        } else {
            ApiError::bad_request("body", "could not be read")
        }
    })
}

/// Parses a JSON body, naming the field on error.
/// Every request body of the API is an object; serde would also take a struct as an
/// array of its fields, which no client means.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(ApiError::bad_request("body", "invalid JSON: empty")),
        Some(_) => return Err(ApiError::bad_request("body", "must be a JSON object")),
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        describe(&path, err.inner())
    })?;
    de.end().map_err(|err| describe(".", &err))?;
    Ok(value)
}

fn describe(path: &str, err: &serde_json::Error) -> ApiError {
    let text = err.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => text.as_str(),
    };
    if !err.is_data() {
        return ApiError::bad_request("body", format!("invalid JSON: {text}"));
    }
    // "missing field `x`" is reported at the enclosing object: name the field itself.
    if let Some(rest) = text.strip_prefix("missing field `") {
        let field = rest.trim_end_matches('`');
        let full = if path == "." {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        };
        return ApiError::bad_request(&full, "is required");
    }
    let field = if path == "." { "body" } else { path };
    ApiError::bad_request(field, text)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        ids: Option<Vec<u64>>,
    }

    fn message(bytes: &[u8]) -> String {
        parse::<Body>(bytes).unwrap_err().0.message
    }

    #[test]
    fn names_missing_and_mistyped_fields() {
        assert_eq!(message(br#"{}"#), "name: is required");
        assert!(message(br#"{"name": 5}"#).starts_with("name: invalid type: integer `5`"));
        assert!(message(br#"{"name": "a", "ids": ["x"]}"#).starts_with("ids[0]: invalid type"));
        assert!(message(b"{").starts_with("body: invalid JSON"));
        assert!(message(br#"{"name": "a"} x"#).starts_with("body: invalid JSON"));
        assert_eq!(message(br#"["a", null]"#), "body: must be a JSON object");
        assert!(message(b"").starts_with("body: invalid JSON"));
        assert!(parse::<Body>(br#"{"name": "a", "extra": 1}"#).is_ok());
    }

    #[test]
    fn content_types() {
        let mut headers = HeaderMap::new();
        assert!(!is_json(&headers));
        for (value, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            headers.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&headers), ok, "{value}");
        }
    }
}
