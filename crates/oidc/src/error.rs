//! The ways a sign-in through OpenID Connect can fail, typed so that the server maps each one
//! to a stable API code with an exhaustive `match`. Two classes matter to a person: the
//! provider (or Tradia's registration at it) is not usable right now — `oidc_unavailable`, an
//! administrator has something to fix — or this one sign-in attempt is refused —
//! `oidc_failed`, start again. [`OidcError::kind`] says which.
//!
//! Messages name URLs only through [`tradia_core::redact_url`] and never contain a code, a
//! token, a secret or a claim value.

/// One failure of discovery, of starting a sign-in or of completing one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The settings cannot be used (the issuer is not a URL, a scope is empty…). Unavailable.
    #[error("OpenID Connect settings are invalid: {0}")]
    InvalidSettings(String),
    /// The provider could not be reached, timed out, answered a server error (5xx) or an
    /// oversized body. Unavailable; retrying later may work.
    #[error("OpenID provider unreachable at {url}: {reason}")]
    Unreachable {
        /// The URL that was asked, redacted.
        url: String,
        /// What went wrong, without the URL.
        reason: String,
    },
    /// The provider answered, but its discovery document or key set is unusable (wrong issuer
    /// name, missing endpoint, not JSON, 404…). Unavailable: the settings or the provider need
    /// fixing.
    #[error("OpenID provider {issuer} is not usable: {reason}")]
    InvalidProvider {
        /// The configured issuer, redacted.
        issuer: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The provider refused Tradia's own credentials at its token endpoint (`invalid_client`,
    /// `unauthorized_client`): the client id or secret is wrong. Unavailable.
    #[error("the OpenID provider refused this client's credentials: {0}")]
    ClientRejected(String),
    /// The `state` that came back is not the one this sign-in was started with (a forged or
    /// replayed callback). Failed.
    #[error("the sign-in state does not match the one that was started")]
    StateMismatch,
    /// The sealed pending login that came back (a cookie) was not sealed by this service with
    /// this key, or was altered. Failed.
    #[error("the sign-in in progress cannot be read back: {0}")]
    InvalidPendingLogin(String),
    /// The sign-in was started longer ago than `login_timeout` allows. Failed.
    #[error("the sign-in was started too long ago; start again")]
    LoginExpired,
    /// The provider sent the person back with an error (`access_denied`, `login_required`…)
    /// instead of a code; built by the server with [`OidcError::denied`]. Failed.
    #[error("the OpenID provider did not sign the user in: {error}")]
    Denied {
        /// The `error` parameter of the callback.
        error: String,
        /// The `error_description` parameter, when there was one.
        description: Option<String>,
    },
    /// The provider refused to exchange the code (`invalid_grant`: already used, expired, or
    /// the PKCE verifier does not match). Failed.
    #[error("the OpenID provider refused the authorisation code: {0}")]
    TokenRejected(String),
    /// The token response could not be read, or carries no ID token. Failed.
    #[error("the OpenID provider's token response is invalid: {0}")]
    InvalidTokenResponse(String),
    /// The ID token is not valid: bad signature or unknown key, wrong issuer or audience,
    /// expired, wrong nonce, access-token hash mismatch. Failed.
    #[error("the ID token was refused: {0}")]
    InvalidIdToken(String),
    /// The user-info answer could not be read or is for another subject. Failed.
    #[error("the OpenID provider's user info was refused: {0}")]
    InvalidUserInfo(String),
}

/// The class of an [`OidcError`], for the server's two codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OidcErrorKind {
    /// The provider or the settings are not usable now (`oidc_unavailable`).
    Unavailable,
    /// This sign-in attempt is refused (`oidc_failed`).
    Failed,
}

impl OidcError {
    /// Which of the two classes this failure belongs to.
    pub fn kind(&self) -> OidcErrorKind {
        match self {
            Self::InvalidSettings(_)
            | Self::Unreachable { .. }
            | Self::InvalidProvider { .. }
            | Self::ClientRejected(_) => OidcErrorKind::Unavailable,
            Self::StateMismatch
            | Self::InvalidPendingLogin(_)
            | Self::LoginExpired
            | Self::Denied { .. }
            | Self::TokenRejected(_)
            | Self::InvalidTokenResponse(_)
            | Self::InvalidIdToken(_)
            | Self::InvalidUserInfo(_) => OidcErrorKind::Failed,
        }
    }

    /// The error for a callback that carries `error` (and maybe `error_description`) instead
    /// of a code. Both are bounded to 200 characters: they come from the query string.
    pub fn denied(error: &str, description: Option<&str>) -> Self {
        Self::Denied {
            error: bounded(error),
            description: description.map(bounded).filter(|d| !d.is_empty()),
        }
    }
}

fn bounded(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The message of an error and of its sources, joined by `: ` (reqwest and rustls say the
/// useful part, "connection refused", in a source).
pub(crate) fn describe(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let part = cause.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denied_is_bounded_and_stripped_of_control_characters() {
        let long = "x".repeat(500);
        let OidcError::Denied { error, description } =
            OidcError::denied("access_denied\r\nSet-Cookie: a", Some(&long))
        else {
            panic!("not Denied");
        };
        assert_eq!(error, "access_deniedSet-Cookie: a");
        assert_eq!(description.map(|d| d.len()), Some(200));
        assert_eq!(OidcError::denied("x", Some("")).kind(), OidcErrorKind::Failed);
    }

    #[test]
    fn provider_trouble_is_unavailable_and_attempt_trouble_is_failed() {
        let unreachable = OidcError::Unreachable { url: "u".into(), reason: "r".into() };
        assert_eq!(unreachable.kind(), OidcErrorKind::Unavailable);
        assert_eq!(OidcError::ClientRejected("x".into()).kind(), OidcErrorKind::Unavailable);
        assert_eq!(OidcError::StateMismatch.kind(), OidcErrorKind::Failed);
        assert_eq!(OidcError::InvalidIdToken("x".into()).kind(), OidcErrorKind::Failed);
    }
}
