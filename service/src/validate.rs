//! Input rules of PROTOCOL.md sections 6 and 8 and API.md, as [`ServiceError`]s that
//! name the field.
//!
//! The checks themselves are [`protocol::limits`], shared with the gateway; this
//! module turns their [`FieldError`] into a [`ServiceError`], trims names, and adds
//! the search-text rule of the API.

use crate::error::{Result, ServiceError};

use protocol::limits::{
    FieldError, CHANNEL_NAME_MAX_CHARS, DISPLAY_NAME_MAX_CHARS, USERNAME_MAX_CHARS,
};
pub use protocol::limits::{FETCH_LIMIT_DEFAULT as DEFAULT_LIMIT, PASSWORD_MAX_CHARS};

/// Longest username, in bytes (ASCII only: `[a-z0-9_.]{3,32}`).
pub const USERNAME_MAX_BYTES: usize = USERNAME_MAX_CHARS;
/// Longest search text, in characters.
pub const SEARCH_QUERY_MAX_CHARS: usize = 100;

impl From<FieldError> for ServiceError {
    fn from(err: FieldError) -> Self {
        ServiceError::new(err.code, err.to_string())
    }
}

/// Message content: 1-4000 characters, not only whitespace (`TOO_LARGE` above).
pub fn content(text: &str) -> Result<()> {
    Ok(protocol::limits::validate_content(text)?)
}

/// A `nonce`: 1-64 bytes.
pub fn nonce(text: &str) -> Result<()> {
    Ok(protocol::limits::validate_nonce(text)?)
}

/// A reaction emoji: 1-64 bytes.
pub fn emoji(text: &str) -> Result<()> {
    Ok(protocol::limits::validate_emoji(text)?)
}

/// A username: `[a-z0-9_.]{3,32}`.
pub fn username(text: &str) -> Result<()> {
    Ok(protocol::limits::validate_username(text)?)
}

/// A password: 8-256 characters.
pub fn password(text: &str) -> Result<()> {
    Ok(protocol::limits::validate_password(text)?)
}

/// A display name: at most 32 characters as given, then trimmed, 1-32 characters
/// and no control characters. Answers the trimmed name.
///
/// The length is checked before trimming too, so the rule is the one the OpenAPI
/// document states (`maxLength` of the string as sent).
pub fn display_name(text: &str) -> Result<String> {
    at_most_chars("display_name", text, DISPLAY_NAME_MAX_CHARS)?;
    let trimmed = text.trim();
    protocol::limits::validate_display_name(trimmed)?;
    Ok(trimmed.to_owned())
}

/// A group or thread name: at most 100 characters as given, then trimmed, 1-100
/// characters and no control characters. Answers the trimmed name.
pub fn channel_name(text: &str) -> Result<String> {
    at_most_chars("name", text, CHANNEL_NAME_MAX_CHARS)?;
    let trimmed = text.trim();
    protocol::limits::validate_channel_name(trimmed)?;
    Ok(trimmed.to_owned())
}

/// A page size: 1-100.
pub fn limit(limit: u32) -> Result<()> {
    protocol::limits::validate_fetch_limit(Some(limit))?;
    Ok(())
}

/// A search text: at most 100 characters as given; answers it trimmed.
pub fn search_query(text: &str) -> Result<String> {
    at_most_chars("q", text, SEARCH_QUERY_MAX_CHARS)?;
    Ok(text.trim().to_owned())
}

/// `BAD_REQUEST` naming `field` when `text` has more than `max` characters.
fn at_most_chars(field: &str, text: &str, max: usize) -> Result<()> {
    // Each character takes at least one byte, so short text needs no count.
    if text.len() > max && text.chars().nth(max).is_some() {
        return Err(ServiceError::bad_request(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use protocol::ErrorCode;

    use super::*;

    #[test]
    fn content_rules() {
        assert!(content("hi").is_ok());
        assert_eq!(content("").unwrap_err().code, ErrorCode::BadRequest);
        assert_eq!(content(" \n\t ").unwrap_err().code, ErrorCode::BadRequest);
        assert!(content(&"é".repeat(4000)).is_ok(), "characters, not bytes");
        assert_eq!(
            content(&"a".repeat(4001)).unwrap_err().code,
            ErrorCode::TooLarge
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(channel_name("  general ").unwrap(), "general");
        let e = channel_name("   ").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (ErrorCode::BadRequest, "name: must not be blank")
        );
        assert!(channel_name(&"x".repeat(101)).is_err());
        assert!(display_name(&"x".repeat(33)).is_err());
        assert!(display_name("a\u{0007}b").is_err());
        assert_eq!(display_name("Ada Lovelace").unwrap(), "Ada Lovelace");
    }

    #[test]
    fn limits_and_queries() {
        assert!(limit(1).is_ok() && limit(100).is_ok());
        assert!(limit(0).is_err() && limit(101).is_err());
        assert!(limit(0).unwrap_err().message.starts_with("limit: "));
        assert_eq!(search_query(" ab ").unwrap(), "ab");
        assert!(search_query(&"q".repeat(101)).is_err());
        assert!(search_query(&format!(" {} ", "q".repeat(99))).is_err());
    }

    /// The OpenAPI document states `maxLength` of the string as sent: padding that
    /// trimming would remove still counts.
    #[test]
    fn lengths_count_the_text_as_sent() {
        let padded = format!(" {}", "x".repeat(32));
        assert!(display_name(&padded)
            .unwrap_err()
            .message
            .starts_with("display_name: must be at most 32"));
        assert_eq!(
            display_name(&format!(" {}", "x".repeat(31))).unwrap().len(),
            31
        );
        assert!(channel_name(&format!("{}\n", "x".repeat(100))).is_err());
        assert!(
            channel_name(&"é".repeat(100)).is_ok(),
            "characters, not bytes"
        );
    }

    #[test]
    fn wire_limits_name_the_field() {
        assert!(nonce(&"n".repeat(64)).is_ok());
        assert!(nonce("").unwrap_err().message.contains("nonce"));
        assert!(nonce(&"n".repeat(65)).is_err());
        assert!(emoji("👍").is_ok());
        assert!(emoji(&"e".repeat(65))
            .unwrap_err()
            .message
            .contains("emoji"));
        assert!(username("ada.l_0").is_ok());
        assert!(username("Ada").is_err() && username("ab").is_err());
        assert!(password("12345678").is_ok() && password("1234567").is_err());
    }
}
