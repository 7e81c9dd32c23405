//! Sign-in sessions and API keys, as the store keeps them: by the hash of their secret only.
//!
//! The secrets themselves (the session cookie's token, the CSRF token, the API key) are made and
//! hashed by `tradia-auth` and shown to their owner once; a copy of the database is not enough to
//! act as anyone.

use std::fmt;

use time::OffsetDateTime;

use super::ids::{ApiKeyId, SessionId, UserId};

/// The SHA-256 hash of a secret token (session, CSRF or API key), as stored and looked up.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash(pub [u8; 32]);

impl From<[u8; 32]> for TokenHash {
    fn from(bytes: [u8; 32]) -> Self {
        TokenHash(bytes)
    }
}

impl fmt::Debug for TokenHash {
    /// The first four bytes in hex: enough to tell two apart in a test failure.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash(")?;
        for byte in &self.0[..4] {
            write!(f, "{byte:02x}")?;
        }
        write!(f, "…)")
    }
}

/// What creating a session takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Who signed in.
    pub user: UserId,
    /// Hash of the session cookie's token.
    pub token_hash: TokenHash,
    /// Hash of the session's CSRF token.
    pub csrf_hash: TokenHash,
    /// When the session stops being accepted.
    pub expires_at: OffsetDateTime,
}

/// A sign-in session stored in the database (so replicas share it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Identifier.
    pub id: SessionId,
    /// Whose session it is.
    pub user: UserId,
    /// Hash of the session's CSRF token, to compare with the hash of the one a request sends.
    pub csrf_hash: TokenHash,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it stops being accepted.
    pub expires_at: OffsetDateTime,
    /// The latest request that used it (recorded at most once a minute).
    pub last_seen_at: OffsetDateTime,
}

/// What creating an API key takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// Whose key it is.
    pub user: UserId,
    /// The name its owner gave it ("CI", "Moodle plug-in"…).
    pub name: String,
    /// Hash of the key.
    pub key_hash: TokenHash,
    /// The key's first characters, shown in lists so its owner can tell keys apart.
    pub prefix: String,
}

/// An API key as stored (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Identifier.
    pub id: ApiKeyId,
    /// Whose key it is.
    pub user: UserId,
    /// Its name.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// The latest request that used it (recorded at most once a minute).
    pub last_used_at: Option<OffsetDateTime>,
    /// When its owner or an administrator revoked it; a revoked key is never accepted again.
    pub revoked_at: Option<OffsetDateTime>,
}
