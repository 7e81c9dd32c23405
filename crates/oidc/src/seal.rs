//! A [`PendingLogin`] sealed into a short text that the browser can carry (a cookie on the
//! callback's path) without a database row, so that the callback may reach any replica:
//! AES-256-GCM with a random nonce, under a key every replica derives from the same secret
//! (HKDF-SHA256). The browser can neither read the PKCE verifier and nonce nor change
//! `return_to`; what it can do — send the value back later — is stopped by the `created` time
//! that [`crate::OidcClient::complete`] checks, and by the provider's single-use codes.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::OidcError;
use crate::pending::PendingLogin;

/// What sealed text is for: a value sealed for something else never opens here.
const PURPOSE: &[u8] = b"tradia-oidc pending login v1";
/// Sealed texts longer than this are refused before decoding (a cookie is at most 4 KiB).
const MAX_SEALED_LEN: usize = 4096;

/// The key pending logins are sealed with. `Debug` shows nothing of it.
pub struct SealKey(RandomizedNonceKey);

impl SealKey {
    /// Derives the key from a secret that every replica has — the OpenID client secret of a
    /// confidential client will do (`settings.client_secret`), or a dedicated one (a public
    /// client has no secret). At least 16 bytes.
    pub fn derive(secret: &[u8]) -> Result<Self, OidcError> {
        if secret.len() < 16 {
            return Err(OidcError::InvalidSettings(
                "the secret pending logins are sealed with is shorter than 16 bytes".into(),
            ));
        }
        let failed = |_| OidcError::InvalidSettings("cannot derive the sealing key".into());
        let mut bytes = [0u8; 32];
        Salt::new(HKDF_SHA256, PURPOSE)
            .extract(secret)
            .expand(&[PURPOSE], &AES_256_GCM)
            .map_err(failed)?
            .fill(&mut bytes)
            .map_err(failed)?;
        RandomizedNonceKey::new(&AES_256_GCM, &bytes).map(Self).map_err(failed)
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey([redacted])")
    }
}

impl PendingLogin {
    /// This pending login encrypted and authenticated, as URL-safe base64 (about 500
    /// characters: fits a cookie).
    pub fn seal(&self, key: &SealKey) -> Result<String, OidcError> {
        let mut buf = serde_json::to_vec(self)
            .map_err(|e| OidcError::InvalidPendingLogin(format!("cannot serialise: {e}")))?;
        let nonce = key
            .0
            .seal_in_place_append_tag(Aad::from(PURPOSE), &mut buf)
            .map_err(|_| OidcError::InvalidPendingLogin("cannot seal".into()))?;
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&buf);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// The pending login [`PendingLogin::seal`] sealed with the same key; any other text (or
    /// one sealed with another key, or altered) is [`OidcError::InvalidPendingLogin`].
    pub fn unseal(sealed: &str, key: &SealKey) -> Result<Self, OidcError> {
        let invalid = || OidcError::InvalidPendingLogin("not sealed by this service".into());
        if sealed.len() > MAX_SEALED_LEN {
            return Err(invalid());
        }
        let mut bytes = URL_SAFE_NO_PAD.decode(sealed.trim()).map_err(|_| invalid())?;
        if bytes.len() < NONCE_LEN {
            return Err(invalid());
        }
        let mut body = bytes.split_off(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&bytes).map_err(|_| invalid())?;
        let plain =
            key.0.open_in_place(nonce, Aad::from(PURPOSE), &mut body).map_err(|_| invalid())?;
        serde_json::from_slice(plain).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;
    use url::Url;

    fn pending() -> PendingLogin {
        PendingLogin {
            state: "state-value".into(),
            nonce: "nonce-value".into(),
            pkce_verifier: "verifier-value".into(),
            redirect_uri: Url::parse("https://t.example/api/v1/auth/oidc/callback").unwrap(),
            return_to: "/jobs".into(),
            created: OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap(),
        }
    }

    #[test]
    fn sealed_text_opens_with_the_same_secret_only_and_hides_its_content() {
        let key = SealKey::derive(b"the client secret, shared").unwrap();
        let sealed = pending().seal(&key).unwrap();
        assert!(sealed.len() < 1000, "{}", sealed.len());
        for secret in ["state-value", "nonce-value", "verifier-value", "/jobs"] {
            assert!(!sealed.contains(secret));
        }
        assert_ne!(sealed, pending().seal(&key).unwrap(), "a fresh nonce each time");
        let same = SealKey::derive(b"the client secret, shared").unwrap();
        assert_eq!(PendingLogin::unseal(&sealed, &same).unwrap(), pending());
        let other = SealKey::derive(b"another secret, long enough").unwrap();
        let err = PendingLogin::unseal(&sealed, &other).unwrap_err();
        assert!(matches!(err, OidcError::InvalidPendingLogin(_)), "{err:?}");
    }

    #[test]
    fn altered_truncated_or_foreign_text_is_refused() {
        let key = SealKey::derive(b"the client secret, shared").unwrap();
        let sealed = pending().seal(&key).unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let altered = URL_SAFE_NO_PAD.encode(&bytes);
        for text in [altered.as_str(), &sealed[..sealed.len() - 4], "", "not base64 !", "AAAA"] {
            let err = PendingLogin::unseal(text, &key).unwrap_err();
            assert!(matches!(err, OidcError::InvalidPendingLogin(_)), "{text:?}: {err:?}");
        }
        assert!(PendingLogin::unseal(&"A".repeat(5000), &key).is_err());
    }

    #[test]
    fn a_short_secret_is_refused_and_the_key_is_not_shown() {
        assert!(matches!(SealKey::derive(b"short"), Err(OidcError::InvalidSettings(_))));
        let key = SealKey::derive(b"0123456789abcdef").unwrap();
        assert_eq!(format!("{key:?}"), "SealKey([redacted])");
    }
}
