//! From the claims a provider sends to the [`Identity`] Tradia keeps: who (issuer + subject,
//! the only stable key), how to show them (login, e-mail, name), and their roles. Claims are
//! read as JSON objects so that one rule serves the ID token and the user info alike, and a
//! role claim can be found wherever a provider puts it (`groups`, `roles`,
//! `realm_access.roles`, `https://example.org/roles`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::settings::OidcSettings;

/// The claims of an ID token or user info that the OpenID Connect library does not know,
/// kept so that the role claim can be read from them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ExtraClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl openidconnect::AdditionalClaims for ExtraClaims {}

/// The person a provider signed in.
///
/// The server keys its users by `(issuer, subject)` **only**: `login` and `email` are for
/// display and may change, and `email` may be unverified (`email_verified`), so linking an
/// existing account by either would let whoever controls a provider account take it over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The issuer identifier (`iss`), as in the discovery document.
    pub issuer: String,
    /// The subject (`sub`): unique and never reassigned within the issuer.
    pub subject: String,
    /// `preferred_username`, else `email`, else the subject; without control characters, at
    /// most 200 characters, never empty. Not unique: see the README on login collisions.
    pub login: String,
    /// `email`, when the provider sent one.
    pub email: Option<String>,
    /// `email_verified`, when the provider said.
    pub email_verified: Option<bool>,
    /// `name`, else `given_name family_name`, else `login`.
    pub display_name: String,
    /// The values of the configured role claim (empty without one, or when it is absent).
    pub roles: Vec<String>,
}

/// Whether the identity carries one of the administrator values of the settings.
pub fn is_admin(identity: &Identity, settings: &OidcSettings) -> bool {
    identity.roles.iter().any(|role| settings.admin_values.iter().any(|admin| admin == role))
}

/// Builds the identity from the verified ID-token claims and, when they were fetched, the
/// user-info claims (whose subject the caller has checked): the ID token wins where both
/// have a claim.
pub(crate) fn identity_from_claims(
    issuer: &str,
    subject: &str,
    id_token: &Map<String, Value>,
    user_info: Option<&Map<String, Value>>,
    role_claim: Option<&str>,
) -> Identity {
    let text = |name: &str| {
        claim_text(id_token, name).or_else(|| user_info.and_then(|info| claim_text(info, name)))
    };
    let email = text("email");
    let login = text("preferred_username")
        .or_else(|| email.clone())
        .or_else(|| clean(subject))
        .unwrap_or_else(|| "oidc-user".to_string());
    let display_name = text("name")
        .or_else(|| {
            let full = [text("given_name"), text("family_name")]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            (!full.is_empty()).then_some(full)
        })
        .unwrap_or_else(|| login.clone());
    let email_verified = claim_bool(id_token, "email_verified")
        .or_else(|| user_info.and_then(|info| claim_bool(info, "email_verified")));
    let roles = role_claim
        .and_then(|path| {
            find_claim(id_token, path).or_else(|| user_info.and_then(|i| find_claim(i, path)))
        })
        .map(role_values)
        .unwrap_or_default();
    Identity {
        issuer: issuer.to_string(),
        subject: subject.to_string(),
        login,
        email,
        email_verified,
        display_name,
        roles,
    }
}

/// Whether the claims lack something the user info could supply: a login, or the role claim.
pub(crate) fn needs_user_info(id_token: &Map<String, Value>, role_claim: Option<&str>) -> bool {
    let no_login = claim_text(id_token, "preferred_username").is_none()
        && claim_text(id_token, "email").is_none();
    let no_roles = role_claim.is_some_and(|path| find_claim(id_token, path).is_none());
    no_login || no_roles
}

/// A claim by its exact name first (names may contain dots: `https://example.org/roles`),
/// else by a dotted path through nested objects (`realm_access.roles`).
pub(crate) fn find_claim<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// A role claim's values: a string is one role, a list gives its strings (other items are
/// ignored), anything else gives none.
fn role_values(value: &Value) -> Vec<String> {
    match value {
        Value::String(role) if !role.is_empty() => vec![role.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|role| !role.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The longest login, e-mail or name kept (the store's limit for a login).
const MAX_TEXT_CHARS: usize = 200;

/// A text claim without control characters or surrounding space, at most
/// [`MAX_TEXT_CHARS`]: claims are the provider's input, and a login must be storable.
fn claim_text(claims: &Map<String, Value>, name: &str) -> Option<String> {
    clean(claims.get(name)?.as_str()?)
}

fn clean(text: &str) -> Option<String> {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    let text: String = text.trim().chars().take(MAX_TEXT_CHARS).collect();
    let text = text.trim_end();
    (!text.is_empty()).then(|| text.to_string())
}

/// `email_verified` is a boolean by the specification; some providers send `"true"`.
fn claim_bool(claims: &Map<String, Value>, name: &str) -> Option<bool> {
    match claims.get(name)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn role_claim_may_be_a_string_a_list_a_nested_path_or_a_dotted_name() {
        let claims = map(json!({
            "role": "admin",
            "groups": ["staff", 3, "", "tradia-admins"],
            "realm_access": { "roles": ["offline_access", "translator"] },
            "https://example.org/roles": ["editor"],
            "weird": { "nested": 5 }
        }));
        let roles = |path| find_claim(&claims, path).map(role_values).unwrap_or_default();
        assert_eq!(roles("role"), ["admin"]);
        assert_eq!(roles("groups"), ["staff", "tradia-admins"]);
        assert_eq!(roles("realm_access.roles"), ["offline_access", "translator"]);
        assert_eq!(roles("https://example.org/roles"), ["editor"]);
        assert!(roles("weird.nested").is_empty());
        assert!(roles("realm_access.missing").is_empty());
        assert!(roles("absent").is_empty());
    }

    #[test]
    fn id_token_claims_win_and_user_info_fills_the_gaps() {
        let id = map(json!({ "sub": "u1", "email": "a@x.org" }));
        let info = map(json!({
            "sub": "u1", "email": "other@x.org", "preferred_username": "alice",
            "given_name": "Alice", "family_name": "Martin", "email_verified": "true",
            "realm_access": { "roles": ["tradia-admin"] }
        }));
        let identity =
            identity_from_claims("https://id", "u1", &id, Some(&info), Some("realm_access.roles"));
        assert_eq!(identity.login, "alice");
        assert_eq!(identity.email.as_deref(), Some("a@x.org"));
        assert_eq!(identity.email_verified, Some(true));
        assert_eq!(identity.display_name, "Alice Martin");
        assert_eq!(identity.roles, ["tradia-admin"]);
    }

    #[test]
    fn text_claims_lose_control_characters_and_are_bounded() {
        let claims = map(json!({
            "preferred_username": " al\u{0}ice\n ",
            "name": format!("{} x", "n".repeat(199)),
        }));
        let identity = identity_from_claims("i", "s", &claims, None, None);
        assert_eq!(identity.login, "alice");
        assert_eq!(identity.display_name, "n".repeat(199), "cut at 200, no trailing space");
    }

    #[test]
    fn login_falls_back_to_email_then_subject() {
        let email_only = map(json!({ "email": " b@x.org " }));
        let identity = identity_from_claims("i", "s", &email_only, None, None);
        assert_eq!(
            (identity.login.as_str(), identity.display_name.as_str()),
            ("b@x.org", "b@x.org")
        );
        let bare = map(json!({}));
        let identity = identity_from_claims("i", "sub-42", &bare, None, Some("groups"));
        assert_eq!(identity.login, "sub-42");
        assert!(identity.roles.is_empty());
        assert_eq!(identity.email_verified, None);
    }

    #[test]
    fn user_info_is_needed_only_for_a_missing_login_or_role_claim() {
        let full = map(json!({ "preferred_username": "a", "groups": [] }));
        assert!(!needs_user_info(&full, Some("groups")));
        assert!(needs_user_info(&full, Some("realm_access.roles")));
        assert!(needs_user_info(&map(json!({ "name": "A" })), None));
    }

    #[test]
    fn admin_values_are_compared_exactly() {
        let mut settings = OidcSettings::new("https://id", "c", "s".into());
        let identity = identity_from_claims(
            "https://id",
            "s",
            &map(json!({ "groups": ["Tradia-Admin", "staff"] })),
            None,
            Some("groups"),
        );
        assert!(!is_admin(&identity, &settings), "no admin values: nobody is admin");
        settings.admin_values = vec!["tradia-admin".into()];
        assert!(!is_admin(&identity, &settings), "case matters");
        settings.admin_values.push("staff".into());
        assert!(is_admin(&identity, &settings));
    }
}
