//! Secret tokens: session cookies, CSRF tokens and API keys.
//!
//! Each is 32 bytes from the operating system's random generator ([`TOKEN_BYTES`]), written in
//! unpadded base64url so it travels in a cookie, a header or a shell variable unchanged. Its
//! owner sees it once; the store keeps only its SHA-256 hash ([`hash_token`]), and a presented
//! token is hashed and looked up. 256 random bits cannot be guessed, so a fast hash is enough
//! (see the crate documentation), and comparisons that the server makes itself, such as a
//! request's CSRF token against the session's, are constant-time ([`hashes_match`]).
//!
//! API keys carry a prefix, [`API_KEY_PREFIX`] (`tdk_`), so they are recognisable in a
//! configuration file or by a secret scanner, and a request whose bearer token lacks it is
//! known not to be a key without asking the store.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AuthError;

/// Random bytes in every token and key.
pub const TOKEN_BYTES: usize = 32;

/// Characters of a token: 32 bytes in unpadded base64url.
pub const TOKEN_CHARS: usize = 43;

/// What every API key starts with ("Tradia key").
pub const API_KEY_PREFIX: &str = "tdk_";

/// Characters of an API key kept for display ([`ApiKeySecret::display_prefix`]): the prefix and
/// 8 random characters, enough to tell a user's keys apart and useless to an attacker (48 bits
/// of the 256).
pub const DISPLAY_PREFIX_CHARS: usize = API_KEY_PREFIX.len() + 8;

/// A SHA-256 hash, as the store keeps it.
pub type TokenHash = [u8; 32];

/// `TOKEN_BYTES` fresh random bytes, base64url-encoded.
fn random_text() -> Result<String, AuthError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(AuthError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The SHA-256 hash of a presented token or key (its text, as sent).
pub fn hash_token(presented: &str) -> TokenHash {
    Sha256::digest(presented.as_bytes()).into()
}

/// True when two hashes are equal, in time independent of where they differ.
pub fn hashes_match(a: &TokenHash, b: &TokenHash) -> bool {
    a.ct_eq(b).into()
}

/// True when `presented` (a request's CSRF token) hashes to `stored` (the session's).
pub fn csrf_matches(presented: &str, stored: &TokenHash) -> bool {
    hashes_match(&hash_token(presented), stored)
}

/// A session or CSRF token: give [`Token::as_str`] to the browser, store [`Token::hash`].
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh token.
    pub fn generate() -> Result<Self, AuthError> {
        random_text().map(Token)
    }

    /// The token, for the cookie or the page.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its hash, for the store.
    pub fn hash(&self) -> TokenHash {
        hash_token(&self.0)
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(…)")
    }
}

/// A new API key: show [`ApiKeySecret::as_str`] to its owner once, store [`ApiKeySecret::hash`]
/// and [`ApiKeySecret::display_prefix`].
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// A fresh key: `tdk_` and 43 base64url characters.
    pub fn generate() -> Result<Self, AuthError> {
        random_text().map(|text| ApiKeySecret(format!("{API_KEY_PREFIX}{text}")))
    }

    /// The key, to show once.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its hash, for the store.
    pub fn hash(&self) -> TokenHash {
        hash_token(&self.0)
    }

    /// Its first [`DISPLAY_PREFIX_CHARS`] characters, kept in clear to list keys by.
    pub fn display_prefix(&self) -> String {
        self.0.chars().take(DISPLAY_PREFIX_CHARS).collect()
    }
}

impl fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKeySecret({}…)", self.display_prefix())
    }
}

/// True when `presented` has the shape of an API key: the prefix and 43 base64url characters.
pub fn looks_like_api_key(presented: &str) -> bool {
    presented.strip_prefix(API_KEY_PREFIX).is_some_and(|rest| {
        rest.len() == TOKEN_CHARS
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The hash to look a presented API key up by; `None` when it cannot be one (no need to ask
/// the store).
pub fn api_key_hash(presented: &str) -> Option<TokenHash> {
    looks_like_api_key(presented).then(|| hash_token(presented))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn tokens_are_random_urlsafe_and_hashed() {
        let tokens: Vec<Token> = (0..64).map(|_| Token::generate().unwrap()).collect();
        let distinct: HashSet<&str> = tokens.iter().map(Token::as_str).collect();
        assert_eq!(distinct.len(), tokens.len());
        for token in &tokens {
            assert_eq!(token.as_str().len(), TOKEN_CHARS);
            let bytes = URL_SAFE_NO_PAD.decode(token.as_str()).unwrap();
            assert_eq!(bytes.len(), TOKEN_BYTES);
            assert_eq!(token.hash(), hash_token(token.as_str()));
        }
        assert_ne!(tokens[0].hash(), tokens[1].hash());
        assert_eq!(format!("{:?}", tokens[0]), "Token(…)");
    }

    #[test]
    fn sha256_is_the_hash() {
        // FIPS 180-2 test vector.
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = hash_token("abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn csrf_tokens_match_only_themselves() {
        let csrf = Token::generate().unwrap();
        let stored = csrf.hash();
        assert!(csrf_matches(csrf.as_str(), &stored));
        assert!(!csrf_matches("", &stored));
        let mut other = stored;
        other[31] ^= 1;
        assert!(!hashes_match(&stored, &other));
        assert!(hashes_match(&stored, &csrf.hash()));
    }

    #[test]
    fn api_keys_have_a_prefix_and_a_display_prefix() {
        let key = ApiKeySecret::generate().unwrap();
        assert!(key.as_str().starts_with("tdk_"));
        assert_eq!(key.as_str().len(), API_KEY_PREFIX.len() + TOKEN_CHARS);
        assert!(looks_like_api_key(key.as_str()));
        assert_eq!(api_key_hash(key.as_str()), Some(key.hash()));
        let prefix = key.display_prefix();
        assert_eq!(prefix.len(), DISPLAY_PREFIX_CHARS);
        assert!(key.as_str().starts_with(&prefix));
        assert_eq!(format!("{key:?}"), format!("ApiKeySecret({prefix}…)"));
        assert_ne!(key.as_str(), ApiKeySecret::generate().unwrap().as_str());
    }

    #[test]
    fn things_that_are_not_keys() {
        let key = ApiKeySecret::generate().unwrap();
        let body = &key.as_str()[API_KEY_PREFIX.len()..];
        for not_a_key in [
            body.to_string(),
            format!("TDK_{body}"),
            format!("{}x", key.as_str()),
            key.as_str()[..key.as_str().len() - 1].to_string(),
            format!("tdk_{}", "+".repeat(TOKEN_CHARS)),
            String::new(),
        ] {
            assert!(!looks_like_api_key(&not_a_key), "{not_a_key}");
            assert_eq!(api_key_hash(&not_a_key), None);
        }
    }
}
