//! The relying party itself: discovery once at start-up, then for each sign-in a redirect
//! ([`OidcClient::begin`]) and a callback ([`OidcClient::complete`]). Everything a provider
//! sends back is checked before an [`Identity`] exists: the state against the pending login,
//! the code through the token endpoint with the PKCE verifier and the client secret, and the
//! ID token's signature (keys from the provider's JWKS, fetched again once when a token names a
//! key that is not known yet, for key rotation), issuer, audience, expiry, nonce and
//! access-token hash.

use std::borrow::Cow;
use std::sync::{PoisonError, RwLock};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreResponseType, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AccessTokenHash, AuthType, AuthenticationFlow, AuthorizationCode,
    ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, DiscoveryError,
    EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet, IdTokenFields,
    IdTokenVerifier, IssuerUrl, JsonWebKeySetUrl, LogoutRequest, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, SignatureVerificationError, StandardErrorResponse, StandardTokenResponse,
    TokenResponse, UserInfoClaims,
};
use secrecy::ExposeSecret;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use tradia_core::redact_url;
use url::Url;

use crate::claims::{ExtraClaims, Identity, identity_from_claims, needs_user_info};
use crate::error::{OidcError, describe};
use crate::http::HttpClient;
use crate::mapping::{discovery_error, token_error, user_info_error};
use crate::pending::{PendingLogin, local_return_to, same_secret};
use crate::settings::OidcSettings;

type IdTokenFieldsWithExtras = IdTokenFields<
    ExtraClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type TokenAnswer = StandardTokenResponse<IdTokenFieldsWithExtras, CoreTokenType>;
type IdToken = openidconnect::IdToken<
    ExtraClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
/// `CoreClient` with [`ExtraClaims`] instead of no extra claims, in the endpoint states that
/// discovery gives (authorisation set, token and user info maybe).
type RpClient = openidconnect::Client<
    ExtraClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    TokenAnswer,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A discovered provider, ready for sign-ins. Cheap to share behind an `Arc`; all methods
/// take `&self`.
pub struct OidcClient {
    settings: OidcSettings,
    http: HttpClient,
    client: RpClient,
    issuer: IssuerUrl,
    jwks_uri: JsonWebKeySetUrl,
    jwks: RwLock<CoreJsonWebKeySet>,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
    end_session_endpoint: Option<Url>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("issuer", &self.issuer.as_str())
            .field("client_id", &self.settings.client_id)
            .field("end_session_endpoint", &self.end_session_endpoint.as_ref().map(Url::as_str))
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// Reads the provider's discovery document and key set (two requests, each bounded by
    /// `settings.http_timeout`). The issuer in the document must be exactly the configured one.
    pub async fn discover(settings: OidcSettings) -> Result<Self, OidcError> {
        let shown = redact_url(&settings.issuer);
        let configured = IssuerUrl::new(settings.issuer.clone())
            .map_err(|e| OidcError::InvalidSettings(format!("issuer {shown} is not a URL: {e}")))?;
        if !matches!(configured.url().scheme(), "https" | "http") {
            return Err(OidcError::InvalidSettings(format!(
                "issuer {shown} is not an http(s) URL"
            )));
        }
        if settings.client_id.trim().is_empty() {
            return Err(OidcError::InvalidSettings("the client id is empty".into()));
        }
        if settings.scopes.iter().any(|s| s.is_empty() || s.contains(char::is_whitespace)) {
            return Err(OidcError::InvalidSettings("a scope is empty or contains a space".into()));
        }
        if configured.url().scheme() == "http" && !is_loopback(configured.url()) {
            tracing::warn!(oidc.issuer = %shown, "OpenID issuer over plain http: tokens travel unencrypted");
        }
        let http = HttpClient::new(settings.http_timeout)
            .map_err(|e| OidcError::InvalidSettings(format!("HTTP client: {}", describe(&e))))?;
        let (issuer, metadata) = discover_issuer(configured, &http, &shown).await?;
        let basic = CoreClientAuthMethod::ClientSecretBasic;
        let post = CoreClientAuthMethod::ClientSecretPost;
        // Discovery: "if omitted, the default is client_secret_basic".
        let auth_type = match metadata.token_endpoint_auth_methods_supported() {
            Some(methods) if !methods.contains(&basic) && methods.contains(&post) => {
                AuthType::RequestBody
            }
            _ => AuthType::BasicAuth,
        };
        if metadata.token_endpoint().is_none() {
            return Err(OidcError::InvalidProvider {
                issuer: shown,
                reason: "the discovery document has no token_endpoint".into(),
            });
        }
        let jwks_uri = metadata.jwks_uri().clone();
        let jwks = metadata.jwks().clone();
        // An unsigned ID token proves nothing, whatever the provider says it may send.
        let signing_algs: Vec<_> = metadata
            .id_token_signing_alg_values_supported()
            .iter()
            .filter(|alg| **alg != CoreJwsSigningAlgorithm::None)
            .cloned()
            .collect();
        if signing_algs.is_empty() {
            return Err(OidcError::InvalidProvider {
                issuer: shown,
                reason: "it signs ID tokens with no algorithm (only `none`)".into(),
            });
        }
        let end_session_endpoint =
            metadata.additional_metadata().end_session_endpoint.as_ref().map(|u| u.url().clone());
        let client = RpClient::from_provider_metadata(
            metadata,
            ClientId::new(settings.client_id.clone()),
            client_secret(&settings),
        )
        .set_auth_type(auth_type);
        tracing::info!(oidc.issuer = %shown, "OpenID provider discovered");
        Ok(Self {
            settings,
            http,
            client,
            issuer,
            jwks_uri,
            jwks: RwLock::new(jwks),
            signing_algs,
            end_session_endpoint,
        })
    }

    /// The settings this client was discovered with.
    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// The issuer identifier, as [`Identity::issuer`] will carry it.
    pub fn issuer(&self) -> &str {
        self.issuer.as_str()
    }

    /// The provider's RP-initiated logout endpoint, when its discovery document has one.
    pub fn end_session_endpoint(&self) -> Option<&Url> {
        self.end_session_endpoint.as_ref()
    }

    /// The URL to send the browser to after Tradia's own session is gone, so that the provider
    /// ends its session too: the end-session endpoint with this client's id and, when given,
    /// where the provider should send the person back (it must be registered there). `None`
    /// when the provider has no end-session endpoint.
    pub fn logout_url(&self, post_logout_redirect_uri: Option<&Url>) -> Option<Url> {
        let endpoint = openidconnect::EndSessionUrl::from_url(self.end_session_endpoint.clone()?);
        let mut request = LogoutRequest::from(endpoint)
            .set_client_id(ClientId::new(self.settings.client_id.clone()));
        if let Some(uri) = post_logout_redirect_uri {
            request =
                request.set_post_logout_redirect_uri(PostLogoutRedirectUrl::from_url(uri.clone()));
        }
        Some(request.http_get_url())
    }

    /// Starts a sign-in: the provider's authorisation URL to redirect the browser to, and the
    /// [`PendingLogin`] to keep until the callback. `redirect_uri` is Tradia's callback
    /// (`{TRADIA_PUBLIC_URL}/api/v1/auth/oidc/callback`, registered at the provider);
    /// `return_to` is kept only if it is a local path ([`local_return_to`]).
    pub fn begin(&self, redirect_uri: &Url, return_to: &str) -> (Url, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let request = self
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(redirect_uri.clone())))
            .add_scopes(self.settings.scopes.iter().map(|s| Scope::new(s.clone())));
        let (url, state, nonce) = request.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            redirect_uri: redirect_uri.clone(),
            return_to: local_return_to(return_to),
            created: OffsetDateTime::now_utc(),
        };
        (url, pending)
    }

    /// Completes a sign-in with the `code` and `state` of the callback and the pending login
    /// its `state` found. The server deletes the pending login before calling (single use),
    /// whatever the outcome.
    pub async fn complete(
        &self,
        pending: PendingLogin,
        code: &str,
        state: &str,
    ) -> Result<Identity, OidcError> {
        if !same_secret(&pending.state, state) {
            return Err(OidcError::StateMismatch);
        }
        let age = OffsetDateTime::now_utc() - pending.created;
        // A pending login from the future (more than a minute of clock skew) is as suspect as
        // an old one.
        if age > self.settings.login_timeout || age < -time::Duration::MINUTE {
            return Err(OidcError::LoginExpired);
        }
        let answer = self.exchange(&pending, code).await?;
        let id_token = answer.id_token().ok_or_else(|| {
            OidcError::InvalidTokenResponse("the token response has no id_token".into())
        })?;
        let nonce = Nonce::new(pending.nonce);
        let id_claims = self.verify(id_token, &nonce, answer.access_token()).await?;
        let subject = id_claims_subject(&id_claims)?;
        let user_info = if needs_user_info(&id_claims, self.settings.role_claim.as_deref())
            && self.client.user_info_url().is_some()
        {
            Some(self.user_info(answer.access_token(), &subject).await?)
        } else {
            None
        };
        Ok(identity_from_claims(
            self.issuer.as_str(),
            &subject,
            &id_claims,
            user_info.as_ref(),
            self.settings.role_claim.as_deref(),
        ))
    }

    async fn exchange(&self, pending: &PendingLogin, code: &str) -> Result<TokenAnswer, OidcError> {
        let request = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| OidcError::InvalidProvider {
                issuer: redact_url(self.issuer.as_str()),
                reason: e.to_string(),
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::from_url(pending.redirect_uri.clone())));
        request.request_async(&self.http).await.map_err(token_error)
    }

    /// Verifies the ID token, fetching the key set again once if the token names a key not
    /// known yet; returns its claims as JSON.
    async fn verify(
        &self,
        id_token: &IdToken,
        nonce: &Nonce,
        access_token: &AccessToken,
    ) -> Result<Map<String, Value>, OidcError> {
        match self.verify_with_current_keys(id_token, nonce, access_token) {
            Err(Verification::UnknownKey) => {
                let jwks = CoreJsonWebKeySet::fetch_async(&self.jwks_uri, &self.http)
                    .await
                    .map_err(|e| discovery_error(&redact_url(self.issuer.as_str()), e))?;
                *self.jwks.write().unwrap_or_else(PoisonError::into_inner) = jwks;
                match self.verify_with_current_keys(id_token, nonce, access_token) {
                    Ok(claims) => Ok(claims),
                    Err(Verification::UnknownKey) => Err(OidcError::InvalidIdToken(
                        "signed with a key the provider does not publish".into(),
                    )),
                    Err(Verification::Refused(e)) => Err(e),
                }
            }
            Ok(claims) => Ok(claims),
            Err(Verification::Refused(e)) => Err(e),
        }
    }

    fn verify_with_current_keys(
        &self,
        id_token: &IdToken,
        nonce: &Nonce,
        access_token: &AccessToken,
    ) -> Result<Map<String, Value>, Verification> {
        let jwks = self.jwks.read().unwrap_or_else(PoisonError::into_inner).clone();
        let client_id = ClientId::new(self.settings.client_id.clone());
        let verifier = match client_secret(&self.settings) {
            Some(secret) => IdTokenVerifier::new_confidential_client(
                client_id,
                secret,
                self.issuer.clone(),
                jwks,
            ),
            None => IdTokenVerifier::new_public_client(client_id, self.issuer.clone(), jwks),
        }
        .set_allowed_algs(self.signing_algs.iter().cloned());
        let claims = id_token.claims(&verifier, nonce).map_err(|e| match e {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => Verification::UnknownKey,
            other => Verification::Refused(OidcError::InvalidIdToken(describe(&other))),
        })?;
        if let Some(expected) = claims.access_token_hash() {
            let refused = |reason: String| Verification::Refused(OidcError::InvalidIdToken(reason));
            let alg = id_token.signing_alg().map_err(|e| refused(describe(&e)))?;
            let key = id_token.signing_key(&verifier).map_err(|e| refused(describe(&e)))?;
            let actual = AccessTokenHash::from_token(access_token, alg, key)
                .map_err(|e| refused(describe(&e)))?;
            if actual != *expected {
                return Err(refused("the access-token hash (at_hash) does not match".into()));
            }
        }
        match serde_json::to_value(claims) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) | Err(_) => Err(Verification::Refused(OidcError::InvalidIdToken(
                "its claims are not a JSON object".into(),
            ))),
        }
    }

    async fn user_info(
        &self,
        access_token: &AccessToken,
        subject: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let request = self
            .client
            .user_info(
                access_token.clone(),
                Some(openidconnect::SubjectIdentifier::new(subject.to_string())),
            )
            .map_err(|e| OidcError::InvalidUserInfo(e.to_string()))?;
        let claims: UserInfoClaims<ExtraClaims, CoreGenderClaim> =
            request.request_async(&self.http).await.map_err(user_info_error)?;
        match serde_json::to_value(claims) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) | Err(_) => Err(OidcError::InvalidUserInfo("not a JSON object".into())),
        }
    }
}

/// The discovery document and the issuer as it spells itself. Where the configured issuer
/// differs from the document's only by a final slash (`https://id.example` read back from a
/// `Url` as `https://id.example/`, a Keycloak realm written with one), both name the same
/// discovery URL, and the document's spelling is taken: it is the one its ID tokens carry.
async fn discover_issuer(
    configured: IssuerUrl,
    http: &HttpClient,
    shown: &str,
) -> Result<(IssuerUrl, ProviderMetadataWithLogout), OidcError> {
    match ProviderMetadataWithLogout::discover_async(configured.clone(), http).await {
        Ok(metadata) => Ok((configured, metadata)),
        Err(DiscoveryError::Validation(message)) if message.starts_with("unexpected issuer") => {
            let text = configured.as_str();
            let toggled = match text.strip_suffix('/') {
                Some(without) => without.to_string(),
                None => format!("{text}/"),
            };
            let refused = || OidcError::InvalidProvider {
                issuer: shown.to_string(),
                reason: format!("{message}; set the issuer exactly as the provider writes it"),
            };
            let alternative = IssuerUrl::new(toggled).map_err(|_| refused())?;
            match ProviderMetadataWithLogout::discover_async(alternative.clone(), http).await {
                Ok(metadata) => {
                    tracing::info!(
                        oidc.issuer = %redact_url(alternative.as_str()),
                        "OpenID issuer taken as the provider spells it (final slash)"
                    );
                    Ok((alternative, metadata))
                }
                Err(_) => Err(refused()),
            }
        }
        Err(e) => Err(discovery_error(shown, e)),
    }
}

/// Why an ID token did not verify with the keys at hand.
enum Verification {
    /// It names a key the cached key set does not have: fetch the set again.
    UnknownKey,
    /// Anything else: final.
    Refused(OidcError),
}

fn client_secret(settings: &OidcSettings) -> Option<ClientSecret> {
    settings.client_secret.as_ref().map(|s| ClientSecret::new(s.expose_secret().to_string()))
}

fn id_claims_subject(claims: &Map<String, Value>) -> Result<String, OidcError> {
    match claims.get("sub").and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => Ok(sub.to_string()),
        _ => Err(OidcError::InvalidIdToken("no subject".into())),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}
