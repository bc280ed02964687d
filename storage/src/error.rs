//! Storage errors, classified by whose fault they are.

/// A storage failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. the username is taken). Client fault: 409.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The named row does not exist (a message or channel that is absent, a message that
    /// is not in the named channel, or one deleted before an edit or a reaction). Client
    /// fault: 404; the text names the field.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request breaks a data rule (e.g. an attachment that is not the caller's, or
    /// a 21st distinct emoji on a message). Client fault: 400; the text names the field.
    #[error("invalid: {0}")]
    Invalid(String),
    /// A limit of the data is reached (a new member of a channel at its member cap).
    /// Client fault: 403; the text names the limit.
    #[error("limit reached: {0}")]
    Limit(String),
    /// The backend cannot be reached or is overloaded. Backend fault: 503.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Anything else: our fault, logged once, 500.
    #[error("storage error: {0}")]
    Internal(String),
}

/// Result alias for storage calls.
pub type Result<T> = std::result::Result<T, StoreError>;
