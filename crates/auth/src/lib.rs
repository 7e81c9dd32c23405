//! Tradia's sign-in primitives, with no HTTP and no storage in them: what the server needs to
//! turn a password, a cookie or an API key into "this request is that user" safely.
//!
//! - [`password`]: argon2id hashes as PHC strings (the `argon2` crate's recommended parameters),
//!   verified in constant time, with a dummy hash checked when the login does not exist so the
//!   answer's timing does not reveal which accounts exist.
//! - [`token`]: session and CSRF tokens and API keys: 32 random bytes from the operating
//!   system, shown once, stored only as their SHA-256 hash (plus a short display prefix for
//!   keys), compared in constant time.
//! - [`throttle`]: the sign-in throttle policy, a pure function of the recent failures for the
//!   account and for the address: growing delays, then a refusal.
//!
//! Why hashes differ: a password is chosen by a person and guessable, so it gets a slow,
//! memory-hard hash (argon2id) that makes guessing offline expensive. A token or key is 256
//! random bits: no one can guess it, so a fast hash (SHA-256) is enough, and being deterministic
//! it lets the store look the credential up by its hash.
//!
//! ```
//! use tradia_auth::{password, token::ApiKeySecret};
//!
//! let stored = password::hash_password("correct horse battery staple")?;
//! assert!(password::verify_password("correct horse battery staple", Some(&stored))?);
//! assert!(!password::verify_password("guess", None)?); // no such login: as slow, and false
//!
//! let key = ApiKeySecret::generate()?; // show key.as_str() once, store key.hash()
//! assert_eq!(tradia_auth::token::api_key_hash(key.as_str()), Some(key.hash()));
//! # Ok::<(), tradia_auth::AuthError>(())
//! ```

#![forbid(unsafe_code)]

pub mod password;
pub mod throttle;
pub mod token;

/// Why an authentication primitive failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The operating system's random number generator failed (no secret can be made).
    #[error("the system random number generator failed: {0}")]
    Random(getrandom::Error),
    /// A stored password hash is not a PHC string this crate can verify.
    #[error("the stored password hash is malformed or uses an unknown algorithm")]
    MalformedHash,
    /// A new password breaks the policy ([`password::check_new_password`]).
    #[error("{0}")]
    WeakPassword(&'static str),
    /// Hashing failed inside argon2 (out of memory, or a password over the length limit).
    #[error("password hashing failed: {0}")]
    Hashing(argon2::password_hash::Error),
}

impl AuthError {
    /// A stable snake_case code for logs and API errors.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Random(_) => "random_failed",
            AuthError::MalformedHash => "malformed_password_hash",
            AuthError::WeakPassword(_) => "weak_password",
            AuthError::Hashing(_) => "hashing_failed",
        }
    }
}
