//! argon2id password hashing, off the async threads.
//!
//! Hashing costs tens of milliseconds and ~19 MiB by design, so it runs in
//! `spawn_blocking`; [`crate::Chat`] bounds how many run at once.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::RngCore;

use crate::config::PasswordParams;
use crate::error::{Result, ServiceError};

fn hasher(params: PasswordParams) -> Result<Argon2<'static>> {
    let params = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        None,
    )
    .map_err(|e| ServiceError::internal(format!("argon2 params: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` with a fresh random salt; returns the PHC string.
pub fn hash_blocking(password: &str, params: PasswordParams) -> Result<String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ServiceError::internal(format!("salt: {e}")))?;
    hasher(params)?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ServiceError::internal(format!("argon2 hash: {e}")))
}

/// Whether `password` matches the PHC string `hash` (the cost is read from the hash).
/// A malformed stored hash is our fault, not a wrong password.
pub fn verify_blocking(password: &str, hash: &str) -> Result<bool> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| ServiceError::internal(format!("stored hash: {e}")))?;
    match Argon2::default().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(ServiceError::internal(format!("argon2 verify: {e}"))),
    }
}

/// [`hash_blocking`] on the blocking pool.
pub async fn hash(password: String, params: PasswordParams) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, params))
        .await
        .map_err(|e| ServiceError::internal(format!("hash task: {e}")))?
}

/// [`verify_blocking`] on the blocking pool.
pub async fn verify(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || verify_blocking(&password, &hash))
        .await
        .map_err(|e| ServiceError::internal(format!("verify task: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_salted_and_verify() {
        let params = PasswordParams::insecure_fast();
        let a = hash_blocking("correct horse", params).unwrap();
        let b = hash_blocking("correct horse", params).unwrap();
        assert!(a.starts_with("$argon2id$v=19$"), "{a}");
        assert_ne!(a, b, "fresh salt per hash");
        assert!(verify_blocking("correct horse", &a).unwrap());
        assert!(!verify_blocking("wrong horse", &a).unwrap());
    }

    #[test]
    fn a_malformed_stored_hash_is_internal() {
        let err = verify_blocking("x", "not a hash").unwrap_err();
        assert_eq!(err.code, protocol::ErrorCode::Internal);
    }
}
