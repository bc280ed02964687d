//! [`Path`]: path parameters (ids) whose parse failure is a `400` naming the parameter.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Typed path parameters, e.g. `Path<ChannelId>` or `Path<(ChannelId, UserId)>`.
#[derive(Debug, Clone, Copy)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => {
                // Every parameter of our routes is an id: name the first that is not one.
                let name = RawPathParams::from_request_parts(parts, state)
                    .await
                    .ok()
                    .and_then(|params| {
                        params
                            .iter()
                            .find(|(_, value)| value.parse::<u64>().is_err())
                            .map(|(key, _)| key.to_owned())
                    });
                Err(ApiError::bad_request(
                    name.as_deref().unwrap_or("path"),
                    "must be a decimal id",
                ))
            }
        }
    }
}
