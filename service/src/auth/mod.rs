//! Authentication: argon2id password hashes and HS256 JWTs.
//!
//! The API issues a token at register and login; the gateway checks the same token in
//! `IDENTIFY`. Both go through [`crate::Chat::authenticate`], which also checks that
//! the token's user still exists. This module holds the pure parts; it is not a
//! session store (tokens are stateless until they expire).

pub mod jwt;
pub mod password;

pub use jwt::Claims;
