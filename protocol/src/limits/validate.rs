//! Checks on user input that the API and the gateway both make, so that a message sent
//! over HTTP and one sent over the socket are refused for the same reasons, with the
//! same codes. Pure functions: no storage, no state (the distinct-emoji count and the
//! nonce window need state, and live with the services).

use super::{
    CHANNEL_NAME_MAX_CHARS, CONTENT_MAX_CHARS, DISPLAY_NAME_MAX_CHARS, EMOJI_MAX_BYTES,
    EMOJI_MIN_BYTES, FETCH_LIMIT_DEFAULT, FETCH_LIMIT_MAX, FETCH_LIMIT_MIN, NONCE_MAX_BYTES,
    NONCE_MIN_BYTES, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS, USERNAME_MAX_CHARS,
    USERNAME_MIN_CHARS,
};
use crate::error::ErrorCode;
use crate::ids::MessageId;

/// A field that fails a check: which one, why, and the code to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field's wire name, e.g. `content`.
    pub field: &'static str,
    /// `BAD_REQUEST`, or `TOO_LARGE` for over-long content.
    pub code: ErrorCode,
    /// What is wrong, e.g. `must not be blank`.
    pub reason: String,
}

/// The error of [`validate_content`].
pub type ContentError = FieldError;

impl FieldError {
    fn bad_request(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            code: ErrorCode::BadRequest,
            reason: reason.into(),
        }
    }
}

/// Message content: 1-4000 characters, not only whitespace. Empty or blank is
/// `BAD_REQUEST`; over 4000 characters (Unicode scalar values) is `TOO_LARGE`.
pub fn validate_content(content: &str) -> Result<(), ContentError> {
    if content.is_empty() {
        return Err(FieldError::bad_request("content", "must not be empty"));
    }
    // Each character takes at least one byte, so short content needs no count.
    if content.len() > CONTENT_MAX_CHARS && content.chars().nth(CONTENT_MAX_CHARS).is_some() {
        return Err(FieldError {
            field: "content",
            code: ErrorCode::TooLarge,
            reason: format!("must be at most {CONTENT_MAX_CHARS} characters"),
        });
    }
    if content.trim().is_empty() {
        return Err(FieldError::bad_request("content", "must not be blank"));
    }
    Ok(())
}

/// A `nonce`: 1-64 bytes.
pub fn validate_nonce(nonce: &str) -> Result<(), FieldError> {
    bytes_in_range("nonce", nonce, NONCE_MIN_BYTES, NONCE_MAX_BYTES)
}

/// An emoji: 1-64 bytes.
pub fn validate_emoji(emoji: &str) -> Result<(), FieldError> {
    bytes_in_range("emoji", emoji, EMOJI_MIN_BYTES, EMOJI_MAX_BYTES)
}

/// A username: 3-32 characters from `[a-z0-9_.]`.
pub fn validate_username(username: &str) -> Result<(), FieldError> {
    if !username
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
    {
        return Err(FieldError::bad_request(
            "username",
            "may only contain a-z, 0-9, `_` and `.`",
        ));
    }
    // ASCII only from here, so bytes are characters.
    if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&username.len()) {
        return Err(FieldError::bad_request(
            "username",
            format!("must be {USERNAME_MIN_CHARS}-{USERNAME_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A password: 8-256 characters.
pub fn validate_password(password: &str) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
        return Err(FieldError::bad_request(
            "password",
            format!("must be {PASSWORD_MIN_CHARS}-{PASSWORD_MAX_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A display name: 1-32 characters, not blank, no control characters (our choice).
pub fn validate_display_name(name: &str) -> Result<(), FieldError> {
    name_like("display_name", name, DISPLAY_NAME_MAX_CHARS)
}

/// A group or thread name: 1-100 characters, not blank, no control characters (our choice).
pub fn validate_channel_name(name: &str) -> Result<(), FieldError> {
    name_like("name", name, CHANNEL_NAME_MAX_CHARS)
}

/// A history page size: absent means 50; otherwise 1-100.
pub fn validate_fetch_limit(limit: Option<u32>) -> Result<u32, FieldError> {
    match limit {
        None => Ok(FETCH_LIMIT_DEFAULT),
        Some(n) if (FETCH_LIMIT_MIN..=FETCH_LIMIT_MAX).contains(&n) => Ok(n),
        Some(_) => Err(FieldError::bad_request(
            "limit",
            format!("must be {FETCH_LIMIT_MIN}-{FETCH_LIMIT_MAX}"),
        )),
    }
}

/// Where a history page starts (PROTOCOL.md section 6, pagination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cursor {
    /// The newest messages.
    Latest,
    /// The messages just before this one.
    Before(MessageId),
    /// The messages just after this one.
    After(MessageId),
    /// The messages centred on this one, itself included.
    Around(MessageId),
}

/// The cursor of a history request: at most one of `before`, `after`, `around`.
pub fn validate_cursors(
    before: Option<MessageId>,
    after: Option<MessageId>,
    around: Option<MessageId>,
) -> Result<Cursor, FieldError> {
    match (before, after, around) {
        (None, None, None) => Ok(Cursor::Latest),
        (Some(id), None, None) => Ok(Cursor::Before(id)),
        (None, Some(id), None) => Ok(Cursor::After(id)),
        (None, None, Some(id)) => Ok(Cursor::Around(id)),
        _ => Err(FieldError::bad_request(
            "before",
            "at most one of before, after and around may be given",
        )),
    }
}

fn bytes_in_range(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    if (min..=max).contains(&value.len()) {
        Ok(())
    } else {
        Err(FieldError::bad_request(
            field,
            format!("must be {min}-{max} bytes"),
        ))
    }
}

fn name_like(field: &'static str, name: &str, max: usize) -> Result<(), FieldError> {
    if name.trim().is_empty() {
        return Err(FieldError::bad_request(field, "must not be blank"));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::bad_request(
            field,
            "must not contain control characters",
        ));
    }
    if name.chars().nth(max).is_some() {
        return Err(FieldError::bad_request(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(result: Result<(), FieldError>) -> Option<ErrorCode> {
        result.err().map(|e| e.code)
    }

    #[test]
    fn content() {
        assert_eq!(code(validate_content("hi")), None);
        assert_eq!(code(validate_content(" x ")), None);
        assert_eq!(code(validate_content("")), Some(ErrorCode::BadRequest));
        assert_eq!(
            code(validate_content(" \n\t\u{3000}")),
            Some(ErrorCode::BadRequest)
        );
        assert_eq!(code(validate_content(&"a".repeat(4000))), None);
        assert_eq!(
            code(validate_content(&"a".repeat(4001))),
            Some(ErrorCode::TooLarge)
        );
        // 4000 four-byte characters are 16 000 bytes but still 4000 characters.
        assert_eq!(code(validate_content(&"😀".repeat(4000))), None);
        assert_eq!(
            code(validate_content(&"😀".repeat(4001))),
            Some(ErrorCode::TooLarge)
        );
        let err = validate_content("   ").unwrap_err();
        assert_eq!(err.field, "content");
        assert_eq!(err.to_string(), "content: must not be blank");
    }

    #[test]
    fn nonce_and_emoji_count_bytes() {
        assert!(validate_nonce("a").is_ok());
        assert!(validate_nonce(&"a".repeat(64)).is_ok());
        assert_eq!(validate_nonce("").unwrap_err().field, "nonce");
        assert!(validate_nonce(&"a".repeat(65)).is_err());
        assert!(validate_emoji("👍").is_ok());
        assert!(validate_emoji(&"é".repeat(32)).is_ok());
        let err = validate_emoji(&"é".repeat(33)).unwrap_err();
        assert_eq!((err.field, err.code), ("emoji", ErrorCode::BadRequest));
        assert!(validate_emoji("").is_err());
    }

    #[test]
    fn username() {
        for ok in ["abc", "a_b.c9", &"z".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "", "Abc", "ab-c", "ab c", "abé", &"z".repeat(33)] {
            let err = validate_username(bad).unwrap_err();
            assert_eq!(
                (err.field, err.code),
                ("username", ErrorCode::BadRequest),
                "{bad}"
            );
        }
    }

    #[test]
    fn password_counts_characters() {
        assert!(validate_password("12345678").is_ok());
        assert!(
            validate_password("ééééééé").is_err(),
            "7 characters, 14 bytes"
        );
        assert!(validate_password(&"x".repeat(256)).is_ok());
        assert_eq!(
            validate_password(&"x".repeat(257)).unwrap_err().field,
            "password"
        );
    }

    #[test]
    fn names() {
        assert!(validate_display_name("Ada Lovelace").is_ok());
        assert!(validate_display_name("  ").is_err());
        assert!(validate_display_name("a\nb").is_err());
        assert!(validate_display_name(&"x".repeat(33)).is_err());
        assert!(validate_channel_name(&"x".repeat(100)).is_ok());
        let err = validate_channel_name(&"x".repeat(101)).unwrap_err();
        assert_eq!(err.field, "name");
    }

    #[test]
    fn fetch_limit() {
        assert_eq!(validate_fetch_limit(None), Ok(50));
        assert_eq!(validate_fetch_limit(Some(1)), Ok(1));
        assert_eq!(validate_fetch_limit(Some(100)), Ok(100));
        assert_eq!(validate_fetch_limit(Some(0)).unwrap_err().field, "limit");
        assert!(validate_fetch_limit(Some(101)).is_err());
    }

    #[test]
    fn cursors() {
        let id = MessageId::new(9);
        assert_eq!(validate_cursors(None, None, None), Ok(Cursor::Latest));
        assert_eq!(
            validate_cursors(Some(id), None, None),
            Ok(Cursor::Before(id))
        );
        assert_eq!(
            validate_cursors(None, Some(id), None),
            Ok(Cursor::After(id))
        );
        assert_eq!(
            validate_cursors(None, None, Some(id)),
            Ok(Cursor::Around(id))
        );
        let err = validate_cursors(Some(id), None, Some(id)).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadRequest);
    }
}
