//! The secrets of accounts: password hashes, session and API-key tokens, CSRF tokens.
//!
//! The primitives are `tradia-auth`'s; this module adapts them to the store's types and the
//! API's errors. Only hashes are stored: a password as an argon2id PHC string (slow on purpose, so a copied
//! database does not yield passwords quickly), a token as its SHA-256 (tokens are 256 random
//! bits, so a fast hash is enough and lookups stay indexed). A session's CSRF token is derived
//! from its cookie token, so the service can give it back (`GET /api/v1/me`) without storing it,
//! while a page on another site, which cannot read the cookie, cannot compute it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tradia_auth::AuthError;
use tradia_auth::token::{ApiKeySecret, Token};
use tradia_store::{PasswordHash, TokenHash};

use crate::error::{ApiError, ErrorCode};

/// How every API key starts, so that secret scanners and people recognise one.
pub const API_KEY_PREFIX: &str = tradia_auth::token::API_KEY_PREFIX;

/// Characters of a key shown in lists (the prefix and a few more).
pub const SHOWN_PREFIX_CHARS: usize = tradia_auth::token::DISPLAY_PREFIX_CHARS;

/// Shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = tradia_auth::password::MIN_PASSWORD_CHARS;

fn failed(error: AuthError) -> ApiError {
    ApiError::internal("a secret could not be made or checked", error)
}

/// 256 random bits, URL-safe base64 (a session token).
pub fn random_token() -> Result<String, ApiError> {
    Token::generate().map(|t| t.as_str().to_string()).map_err(failed)
}

/// A new API key (`tdk_…`).
pub fn new_api_key() -> Result<String, ApiError> {
    ApiKeySecret::generate().map(|k| k.as_str().to_string()).map_err(failed)
}

/// The part of a key shown in lists.
pub fn shown_prefix(key: &str) -> String {
    key.chars().take(SHOWN_PREFIX_CHARS).collect()
}

/// The stored hash of a token.
pub fn hash_token(token: &str) -> TokenHash {
    TokenHash(tradia_auth::token::hash_token(token))
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
    tradia_auth::token::hashes_match(&a.0, &b.0)
}

/// Refuses a password the policy refuses (too short, too long).
pub fn check_password_strength(password: &str) -> Result<(), ApiError> {
    tradia_auth::password::check_new_password(password).map_err(|e| match e {
        AuthError::WeakPassword(why) => {
            ApiError::new(ErrorCode::InvalidRequest, format!("`password`: {why}"))
        }
        other => failed(other),
    })
}

/// Hashes a password with argon2id (on a blocking thread: it takes tens of milliseconds).
pub async fn hash_password(password: &str) -> Result<PasswordHash, ApiError> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || tradia_auth::password::hash_password(&password))
        .await
        .map_err(|e| ApiError::internal("password hashing failed", e))?
        .map(PasswordHash)
        .map_err(|e| match e {
            AuthError::WeakPassword(why) => {
                ApiError::new(ErrorCode::InvalidRequest, format!("`password`: {why}"))
            }
            other => failed(other),
        })
}

/// True when `password` matches `hash`; `None` (unknown login, no local password) does the same
/// work and is always false. A malformed stored hash is logged and refuses the sign-in.
pub async fn verify_password(password: &str, hash: Option<&PasswordHash>) -> bool {
    let password = password.to_string();
    let hash = hash.map(|h| h.as_str().to_string());
    let checked = tokio::task::spawn_blocking(move || {
        tradia_auth::password::verify_password(&password, hash.as_deref())
    })
    .await;
    match checked {
        Ok(Ok(matches)) => matches,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "a stored password hash cannot be checked; an administrator must set a new password");
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "password check failed");
            false
        }
    }
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
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        let key = new_api_key().unwrap();
        assert!(key.starts_with(API_KEY_PREFIX) && key.len() == 47);
        assert_eq!(shown_prefix(&key).len(), SHOWN_PREFIX_CHARS);
        assert!(same_hash(&hash_token(&a), &hash_token(&a)));
        assert!(!same_hash(&hash_token(&a), &hash_token(&b)));
        assert_eq!(csrf_token_for(&a), csrf_token_for(&a));
        assert_ne!(csrf_token_for(&a), csrf_token_for(&b));
        assert_ne!(csrf_token_for(&a), a);
    }
}
