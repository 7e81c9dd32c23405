//! The secrets of accounts: password hashes, session and API-key tokens, CSRF tokens.
//!
//! Only hashes are stored: a password as an argon2id PHC string (slow on purpose, so a copied
//! database does not yield passwords quickly), a token as its SHA-256 (tokens are 256 random
//! bits, so a fast hash is enough and lookups stay indexed). A session's CSRF token is derived
//! from its cookie token, so the service can give it back (`GET /api/v1/me`) without storing it,
//! while a page on another site, which cannot read the cookie, cannot compute it.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tradia_store::{PasswordHash, TokenHash};

use crate::error::{ApiError, ErrorCode};

/// How every API key starts, so that secret scanners and people recognise one.
pub const API_KEY_PREFIX: &str = "tdk_";

/// Characters of a key shown in lists (the prefix and a few more).
pub const SHOWN_PREFIX_CHARS: usize = 12;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// 256 random bits, URL-safe base64.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new API key (`tdk_…`).
pub fn new_api_key() -> String {
    format!("{API_KEY_PREFIX}{}", random_token())
}

/// The part of a key shown in lists.
pub fn shown_prefix(key: &str) -> String {
    key.chars().take(SHOWN_PREFIX_CHARS).collect()
}

/// The stored hash of a token.
pub fn hash_token(token: &str) -> TokenHash {
    TokenHash(Sha256::digest(token.as_bytes()).into())
}

/// The CSRF token of the session whose cookie token is `session_token`.
pub fn csrf_token_for(session_token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"tradia csrf token v1\0");
    hasher.update(session_token.as_bytes());
    URL_SAFE_NO_PAD.encode(hasher.finalize())
}

/// Compares two hashes in time independent of where they differ.
pub fn same_hash(a: &TokenHash, b: &TokenHash) -> bool {
    a.0.iter().zip(b.0.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Refuses a password too short to resist guessing.
pub fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::new(
            ErrorCode::InvalidRequest,
            format!("`password` must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

/// Hashes a password with argon2id (on a blocking thread: it takes tens of milliseconds).
pub async fn hash_password(password: &str) -> Result<PasswordHash, ApiError> {
    let password = password.to_string();
    let hashed = tokio::task::spawn_blocking(move || {
        Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string())
    })
    .await
    .map_err(|e| ApiError::internal("password hashing failed", e))?
    .map_err(|e| ApiError::internal("password hashing failed", e))?;
    Ok(PasswordHash(hashed))
}

/// A hash no password matches, checked when the login is unknown so that the answer takes as
/// long as for a wrong password (the timing does not tell which logins exist).
fn decoy_hash() -> Option<&'static str> {
    static DECOY: OnceLock<Option<String>> = OnceLock::new();
    DECOY
        .get_or_init(|| {
            Argon2::default().hash_password(random_token().as_bytes()).ok().map(|h| h.to_string())
        })
        .as_deref()
}

/// True when `password` matches `hash`; `None` checks against a decoy and is always false.
pub async fn verify_password(password: &str, hash: Option<&PasswordHash>) -> bool {
    let password = password.to_string();
    let hash = hash.map(|h| h.as_str().to_string());
    tokio::task::spawn_blocking(move || match hash {
        Some(hash) => Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok(),
        None => {
            if let Some(decoy) = decoy_hash() {
                let _ = Argon2::default().verify_password(password.as_bytes(), decoy);
            }
            false
        }
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$"), "{:?}", hash);
        assert!(verify_password("correct horse battery", Some(&hash)).await);
        assert!(!verify_password("correct horse batterY", Some(&hash)).await);
        assert!(!verify_password("correct horse battery", None).await);
        assert!(check_password_strength("short").is_err());
        assert!(check_password_strength("long enough!").is_ok());
    }

    #[test]
    fn tokens_are_random_and_their_csrf_token_is_derived() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let key = new_api_key();
        assert!(key.starts_with(API_KEY_PREFIX) && key.len() == 47);
        assert_eq!(shown_prefix(&key).len(), SHOWN_PREFIX_CHARS);
        assert!(same_hash(&hash_token(&a), &hash_token(&a)));
        assert!(!same_hash(&hash_token(&a), &hash_token(&b)));
        assert_eq!(csrf_token_for(&a), csrf_token_for(&a));
        assert_ne!(csrf_token_for(&a), csrf_token_for(&b));
        assert_ne!(csrf_token_for(&a), a);
    }
}
