//! Operational routes: health, readiness, metrics and the OpenAPI document. None
//! takes a user token.

pub mod healthz;
pub mod metrics;
pub mod openapi;
pub mod readyz;
