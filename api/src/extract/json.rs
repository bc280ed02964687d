//! [`Json`]: a JSON body in, a JSON body out.
//!
//! In: the content type must be `application/json` (or `application/*+json`), else
//! `415`; a body over the limit is `413`; bad JSON, a missing field or a wrong type is
//! `400` with the field named (through `serde_path_to_error`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::limits::MAX_NESTING_DEPTH;
use protocol::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ApiError;

/// A JSON request body (as an extractor) or response body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A JSON request body whose rejection waits until the handler asks for the value
/// ([`LateJson::into_inner`]), so a handler can answer who may act (`404`, `403`)
/// before what was sent (`400`, `413`, `415`).
#[derive(Debug)]
pub struct LateJson<T>(Result<T, ApiError>);

impl<T> LateJson<T> {
    /// The body, or the error reading it.
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for LateJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Ok(LateJson(
            Json::<T>::from_request(req, state).await.map(|Json(v)| v),
        ))
    }
}

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
/// array of its fields, which no client means. Nesting deeper than
/// [`MAX_NESTING_DEPTH`] is refused wherever it is, before serde sees the body: serde
/// skips the value of an unknown key without counting its depth.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(ApiError::bad_request("body", "invalid JSON: empty")),
        Some(_) => return Err(ApiError::bad_request("body", "must be a JSON object")),
    }
    if too_deep(bytes, MAX_NESTING_DEPTH) {
        return Err(ApiError::bad_request(
            "body",
            format!("nested deeper than {MAX_NESTING_DEPTH} levels"),
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        describe(&path, err.inner())
    })?;
    de.end().map_err(|err| describe(".", &err))?;
    Ok(value)
}

/// Whether an array or object in the JSON text `bytes` opens deeper than `max` levels
/// (the body's own object is level 1). Brackets inside strings do not count; the text
/// need not be valid JSON (serde judges that afterwards).
fn too_deep(bytes: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
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

    /// Found by an independent client: 50 000 levels inside a key the route does not
    /// know were skipped by serde and the body accepted.
    #[test]
    fn nesting_is_limited_wherever_it_is() {
        let nested = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
        // The body is level 1, so `x` may hold MAX - 1 levels.
        let ok = format!(r#"{{"name": "a", "x": {}}}"#, nested(MAX_NESTING_DEPTH - 1));
        assert!(parse::<Body>(ok.as_bytes()).is_ok());
        for levels in [MAX_NESTING_DEPTH, 50_000] {
            let deep = format!(r#"{{"name": "a", "x": {}}}"#, nested(levels));
            assert_eq!(
                message(deep.as_bytes()),
                format!("body: nested deeper than {MAX_NESTING_DEPTH} levels")
            );
        }
        let in_string = format!(r#"{{"name": "{}\"[", "ids": [1]}}"#, "[".repeat(100));
        assert!(
            parse::<Body>(in_string.as_bytes()).is_ok(),
            "brackets in strings"
        );
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
