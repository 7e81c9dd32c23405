//! A sign-in between its start (the redirect to the provider) and its callback. The server
//! keeps it (a database row keyed by [`PendingLogin::state`], or an encrypted cookie: it holds
//! the PKCE verifier, so it must never reach the browser in clear) and gives it back to
//! [`crate::OidcClient::complete`] once, deleting it there and then: a pending login is
//! single-use.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use url::Url;

/// What [`crate::OidcClient::begin`] remembers about a sign-in in progress.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) pkce_verifier: String,
    pub(crate) redirect_uri: Url,
    pub(crate) return_to: String,
    #[serde(with = "time::serde::timestamp")]
    pub(crate) created: OffsetDateTime,
}

impl PendingLogin {
    /// The `state` sent to the provider: random, unguessable, the key to find this login again
    /// when the callback comes.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// Where to send the person once signed in: always a path on this site (see
    /// [`local_return_to`]).
    pub fn return_to(&self) -> &str {
        &self.return_to
    }

    /// When the sign-in was started (to purge abandoned ones).
    pub fn created(&self) -> OffsetDateTime {
        self.created
    }
}

impl fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &"[redacted]")
            .field("nonce", &"[redacted]")
            .field("pkce_verifier", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("return_to", &self.return_to)
            .field("created", &self.created)
            .finish()
    }
}

/// `return_to` if it is a path on this site, else `/`: an absolute URL, a scheme-relative
/// `//host`, a backslash (which browsers read as a slash) or a control character would make
/// the callback an open redirect.
pub fn local_return_to(return_to: &str) -> String {
    let local = return_to.starts_with('/')
        && !return_to.starts_with("//")
        && !return_to.contains('\\')
        && !return_to.chars().any(char::is_control)
        && return_to.len() <= 2048;
    if local { return_to.to_string() } else { "/".to_string() }
}

/// Compares two secrets in time that does not depend on where they first differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_kept() {
        for good in ["/", "/jobs?id=3#top", "/a/b"] {
            assert_eq!(local_return_to(good), good);
        }
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
            "/a\r\nLocation: x",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_return_to(bad), "/", "{bad:?}");
        }
        assert_eq!(local_return_to(&format!("/{}", "a".repeat(3000))), "/");
    }

    #[test]
    fn secrets_compare_by_content() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn serialises_and_hides_its_secrets_from_debug() {
        let pending = PendingLogin {
            state: "st4te".into(),
            nonce: "n0nce".into(),
            pkce_verifier: "v3rifier".into(),
            redirect_uri: Url::parse("https://tradia.example/api/v1/auth/oidc/callback").unwrap(),
            return_to: "/jobs".into(),
            created: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        };
        let shown = format!("{pending:?}");
        for secret in ["st4te", "n0nce", "v3rifier"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        let json = serde_json::to_string(&pending).unwrap();
        let back: PendingLogin = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pending);
        assert_eq!(back.state(), "st4te");
        assert_eq!(back.return_to(), "/jobs");
    }
}
