//! From the OpenID Connect library's errors to [`OidcError`]: which of them mean "the
//! provider is not usable" and which "this sign-in is refused", and what of their text may be
//! shown (never a token: a parser's message can quote the token it failed on).

use openidconnect::core::CoreErrorResponseType;
use openidconnect::{DiscoveryError, RequestTokenError, StandardErrorResponse, UserInfoError};

use crate::error::{OidcError, describe};
use crate::http::HttpError;

pub(crate) fn unreachable(err: HttpError) -> OidcError {
    OidcError::Unreachable { url: err.url, reason: err.reason }
}

pub(crate) fn discovery_error(issuer: &str, err: DiscoveryError<HttpError>) -> OidcError {
    let invalid =
        |reason: String| OidcError::InvalidProvider { issuer: issuer.to_string(), reason };
    match err {
        DiscoveryError::Request(e) => unreachable(e),
        DiscoveryError::Response(status, _, message) => {
            invalid(format!("answered HTTP {status}: {message}"))
        }
        DiscoveryError::Parse(e) => {
            invalid(format!("its document is not valid at `{}`: {}", e.path(), e.inner()))
        }
        DiscoveryError::Validation(message) => invalid(message),
        DiscoveryError::UrlParse(e) => OidcError::InvalidSettings(format!("issuer {issuer}: {e}")),
        DiscoveryError::Other(message) => invalid(message),
        // `DiscoveryError` is non-exhaustive upstream.
        other => invalid(describe(&other)),
    }
}

pub(crate) fn token_error(
    err: RequestTokenError<HttpError, StandardErrorResponse<CoreErrorResponseType>>,
) -> OidcError {
    match err {
        RequestTokenError::ServerResponse(answer) => {
            let text = match answer.error_description() {
                Some(description) => format!("{}: {}", answer.error(), bounded(description)),
                None => answer.error().to_string(),
            };
            match answer.error() {
                CoreErrorResponseType::InvalidClient
                | CoreErrorResponseType::UnauthorizedClient => OidcError::ClientRejected(text),
                _ => OidcError::TokenRejected(text),
            }
        }
        RequestTokenError::Request(e) => unreachable(e),
        // The parser's own message may quote the token; its path says enough.
        RequestTokenError::Parse(e, _) => {
            OidcError::InvalidTokenResponse(format!("cannot read `{}`", e.path()))
        }
        RequestTokenError::Other(message) => OidcError::InvalidTokenResponse(bounded(&message)),
    }
}

pub(crate) fn user_info_error(err: UserInfoError<HttpError>) -> OidcError {
    match err {
        UserInfoError::Request(e) => unreachable(e),
        UserInfoError::ClaimsVerification(e) => OidcError::InvalidUserInfo(describe(&e)),
        UserInfoError::Parse(e) => {
            OidcError::InvalidUserInfo(format!("cannot read `{}`", e.path()))
        }
        UserInfoError::Response(status, _, message) => {
            OidcError::InvalidUserInfo(format!("HTTP {status}: {}", bounded(&message)))
        }
        UserInfoError::Other(message) => OidcError::InvalidUserInfo(bounded(&message)),
        // `UserInfoError` is non-exhaustive upstream.
        other => OidcError::InvalidUserInfo(describe(&other)),
    }
}

fn bounded(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}
