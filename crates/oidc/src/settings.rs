//! What the relying party needs to know about its provider, built by the server from its
//! `TRADIA_AUTH_OIDC_*` variables. This crate reads no environment: the server owns the names,
//! flags and start-up errors, and hands over a value that is already typed.

use std::time::Duration;

use secrecy::SecretString;

/// The scopes asked for besides `openid` when the server does not say otherwise: enough for a
/// login, an e-mail and a display name at every common provider.
pub const DEFAULT_SCOPES: [&str; 2] = ["profile", "email"];

/// How long one request to the provider may take (discovery, keys, token, user info).
pub const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a started sign-in stays valid: the time a person has to sign in at the provider.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// Settings of one OpenID provider. `Debug` shows the client secret redacted.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer identifier, exactly as the provider writes it in its discovery document
    /// (`https://keycloak.example/realms/staff`); `/.well-known/openid-configuration` is
    /// appended to find the rest.
    pub issuer: String,
    /// The client id registered at the provider for this Tradia instance.
    pub client_id: String,
    /// The client secret of a confidential client; `None` for a public client, which then
    /// rests on PKCE alone (and cannot accept ID tokens signed with the secret, `HS256`…).
    pub client_secret: Option<SecretString>,
    /// The claim that carries the user's roles or groups, found in the ID token or else in the
    /// user info: a top-level name (`groups`, `https://example.org/roles`) or a dotted path
    /// into nested objects (`realm_access.roles`). Its value may be a string or a list of
    /// strings. `None`: no roles are read.
    pub role_claim: Option<String>,
    /// The role values (compared exactly) that make a user an administrator. Empty: nobody
    /// becomes an administrator through the provider.
    pub admin_values: Vec<String>,
    /// Scopes asked for besides `openid` (default [`DEFAULT_SCOPES`]).
    pub scopes: Vec<String>,
    /// Limit for each request to the provider (default [`DEFAULT_HTTP_TIMEOUT`]).
    pub http_timeout: Duration,
    /// How long a [`crate::PendingLogin`] is accepted after it was made (default
    /// [`DEFAULT_LOGIN_TIMEOUT`]).
    pub login_timeout: Duration,
}

impl OidcSettings {
    /// Settings for a confidential client, with the defaults for everything else: no role
    /// claim, no administrator values, the default scopes and limits.
    pub fn new(
        issuer: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: SecretString,
    ) -> Self {
        Self { client_secret: Some(client_secret), ..Self::public(issuer, client_id) }
    }

    /// As [`OidcSettings::new`], for a public client (no secret).
    pub fn public(issuer: impl Into<String>, client_id: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            client_id: client_id.into(),
            client_secret: None,
            role_claim: None,
            admin_values: Vec::new(),
            scopes: DEFAULT_SCOPES.iter().map(|s| (*s).to_string()).collect(),
            http_timeout: DEFAULT_HTTP_TIMEOUT,
            login_timeout: DEFAULT_LOGIN_TIMEOUT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_client_secret() {
        let settings = OidcSettings::new("https://id.example", "tradia", "s3cr3t-value".into());
        let shown = format!("{settings:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("https://id.example"), "{shown}");
    }
}
