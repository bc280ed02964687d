//! [`ApiError`]: every error answer of the API, as `{"error": {"code", "message"}}`
//! with the status of its code (API.md conventions).
//!
//! Whose fault decides the rest ([`service::error::Fault`]): client faults are
//! answered as they are and not logged; backend faults answer 503 and our faults an
//! opaque "internal error", each logged once, here, where it becomes the response
//! ([`ServiceError::log`]), with its source (storage's own text stays in the log).
//! `429` carries `Retry-After` in whole seconds, `401` carries
//! `WWW-Authenticate: Bearer`.

use std::collections::BTreeMap;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use protocol::ErrorCode;
use serde::Serialize;
use service::error::Fault;
use service::ServiceError;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, ResponseBuilder};
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError(pub ServiceError);

impl ApiError {
    /// Bad input in `field`.
    pub fn bad_request(field: &str, why: impl std::fmt::Display) -> Self {
        Self(ServiceError::bad_request(field, why))
    }

    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self(ServiceError::new(code, message))
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        Self(err)
    }
}

/// The JSON error body.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error inside [`ErrorBody`].
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// One of the codes of PROTOCOL.md section 8, e.g. `BAD_REQUEST`.
    #[schema(example = "BAD_REQUEST")]
    pub code: &'static str,
    /// A human-readable reason; names the field for `BAD_REQUEST`.
    #[schema(example = "username: must be 3-32 characters")]
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.0.log();
        let status = self.status();
        let message = match self.0.fault {
            Fault::Ours => service::error::INTERNAL_MESSAGE.to_owned(),
            _ => self.0.message,
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.0.code.as_str(),
                message,
            },
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(ms) = self.0.retry_after_ms {
            let secs = ms.div_ceil(1000).max(1);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// The OpenAPI description of error answers with these statuses.
fn error_responses(statuses: &[(u16, &str)]) -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
    statuses
        .iter()
        .map(|(status, description)| {
            let mut response = ResponseBuilder::new().description(*description).content(
                "application/json",
                utoipa::openapi::ContentBuilder::new()
                    .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                    .build(),
            );
            match status {
                401 => {
                    response = response.header(
                        "WWW-Authenticate",
                        header_doc(Type::String, "Always `Bearer`."),
                    );
                }
                429 => {
                    response = response.header(
                        "Retry-After",
                        header_doc(Type::Integer, "Whole seconds to wait before retrying."),
                    );
                }
                _ => {}
            }
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

/// A documented response header.
fn header_doc(kind: Type, description: &str) -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(kind))
        .description(Some(description))
        .build()
}

macro_rules! error_set {
    ($(#[$doc:meta])* $name:ident: $($status:literal => $description:literal),+ $(,)?) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                error_responses(&[$(($status, $description)),+])
            }
        }
    };
}

error_set! {
    /// Answers of every authenticated route besides its own.
    AuthedErrors:
        401 => "UNAUTHORIZED: no, bad or expired token",
        429 => "RATE_LIMITED: over the per-user request limit (Retry-After)",
        500 => "INTERNAL: our fault (logged)",
        503 => "UNAVAILABLE: storage is down",
}

error_set! {
    /// Answers of register and login besides their own.
    AuthAttemptErrors:
        429 => "RATE_LIMITED: too many attempts from this IP (Retry-After)",
}

error_set! {
    /// Answers any route can give when a backing service or our code fails.
    ServerErrors:
        500 => "INTERNAL: our fault (logged)",
        503 => "UNAVAILABLE: storage is down",
}

error_set! {
    /// Answers of a route that reads a JSON body.
    BodyErrors:
        400 => "BAD_REQUEST: bad input, the field named: a malformed id, query parameter or JSON body, or a rule the schema cannot state (an unknown user id, your own id, two cursors)",
        413 => "TOO_LARGE: body over the size limit",
        415 => "UNSUPPORTED_MEDIA_TYPE: the body is not application/json",
}

error_set! {
    /// Answers of a route with query or path parameters.
    ParamErrors:
        400 => "BAD_REQUEST: bad input, the field named: a malformed id, query parameter or JSON body, or a rule the schema cannot state (an unknown user id, your own id, two cursors)",
}

error_set! {
    /// Answers of an upload besides its own.
    UploadErrors:
        400 => "BAD_REQUEST: not multipart/form-data, no `file` part, an empty file, or an image that does not decode",
        413 => "TOO_LARGE: a file over 50 MiB, or an image over the pixel limit",
        415 => "UNSUPPORTED_MEDIA_TYPE: the file's bytes are not of an allowed type (SVG, HTML and executables are not)",
}

error_set! {
    /// Answers of a media download besides its own.
    DownloadErrors:
        404 => "NOT_FOUND: no such attachment, a name that is not the file's, no thumbnail, or a deleted message's file",
}

error_set! {
    /// Answers of a route on one channel (or message) the caller must be a member of.
    MemberErrors:
        403 => "FORBIDDEN: a public channel the caller is not a member of, or a role check",
        404 => "NOT_FOUND: no such channel or message, or one the caller cannot see",
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(response: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn body_and_status_follow_the_code() {
        let response = ApiError::bad_request("name", "must not be blank").into_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body_json(response).await,
            serde_json::json!({"error": {"code": "BAD_REQUEST", "message": "name: must not be blank"}})
        );
    }

    #[tokio::test]
    async fn rate_limited_has_retry_after_in_whole_seconds() {
        let response = ApiError(ServiceError::rate_limited(1200)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
        let response = ApiError(ServiceError::rate_limited(5)).into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    /// Each fault kind's answer: the client's as it is, a backend's as 503 with a
    /// generic reason, ours as an opaque 500; storage's text is in none of them.
    #[tokio::test]
    async fn each_fault_kind_answers_as_it_should() {
        let secret = "UNIQUE constraint failed: users.password_hash in /data/layer4.db";
        let cases = [
            (
                ServiceError::from(storage::StoreError::Conflict(
                    "username: already taken".into(),
                )),
                StatusCode::CONFLICT,
                "CONFLICT",
                "username: already taken",
            ),
            (
                ServiceError::from(storage::StoreError::Unavailable(secret.into())),
                StatusCode::SERVICE_UNAVAILABLE,
                "UNAVAILABLE",
                "storage unavailable",
            ),
            (
                ServiceError::from(storage::StoreError::Internal(secret.into())),
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            ),
            (
                ServiceError::internal(secret),
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            ),
            (
                ServiceError::new(ErrorCode::Internal, secret),
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            ),
        ];
        for (err, status, code, message) in cases {
            let logged_before = err.clone();
            let response = ApiError(err).into_response();
            assert_eq!(response.status(), status);
            let body = body_json(response).await;
            assert_eq!(
                body,
                serde_json::json!({"error": {"code": code, "message": message}})
            );
            assert!(!body.to_string().contains("constraint"), "{body}");
            assert!(!logged_before.log(), "logged once, by the response");
        }
    }

    #[tokio::test]
    async fn unauthorized_asks_for_a_bearer_token() {
        let response = ApiError(ServiceError::unauthorized("invalid token")).into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    }
}
