//! The one URL redactor: every place that prints or logs a URL (database, LLM servers, proxies,
//! `--check-config`, start-up errors) passes it through [`redact_url`], so a password never
//! reaches a log or a terminal, whether it sits in the user part or in a query parameter.

use url::Url;

/// Query parameters whose value is a secret.
const SECRET_PARAMS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "sslpassword",
    "secret",
    "token",
    "access_token",
    "api_key",
    "apikey",
    "key",
];

/// What replaces a secret.
const MASK: &str = "***";

/// `url` with every secret (the password of the user part, a lone user part of an HTTP URL, the
/// value of a `password=`, `token=` or similar query parameter) replaced by `***`. A URL with no secret comes back exactly as
/// given; one that does not parse has anything between `://` and the last `@` masked.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = Url::parse(url) else { return redact_unparsed(url) };
    let mut changed = false;
    if parsed.password().is_some() {
        // Cannot fail: a URL with a password has a host.
        changed |= parsed.set_password(Some(MASK)).is_ok();
    } else if !parsed.username().is_empty() && matches!(parsed.scheme(), "http" | "https") {
        // `https://TOKEN@host`: on HTTP a lone user part is how many servers take a key. A
        // database URL's lone user is a role name, not a secret, and stays readable.
        changed |= parsed.set_username(MASK).is_ok();
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                if is_secret_param(&k) && v != MASK {
                    changed = true;
                    (k.into_owned(), MASK.to_string())
                } else {
                    (k.into_owned(), v.into_owned())
                }
            })
            .collect();
        if changed {
            parsed.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    if changed { parsed.to_string() } else { url.to_string() }
}

fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

fn redact_unparsed(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start + 3 => {
            format!("{}{MASK}{}", &url[..start + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_passwords_in_user_part_and_query() {
        let out = redact_url("postgres://u:pw@h/db?password=pw2");
        assert!(!out.contains("pw@") && !out.contains("pw2"), "{out}");
        assert!(out.starts_with("postgres://u:***@h/db?"), "{out}");
        let out = redact_url("postgres://tradia:s3cr%40t@db.example:5432/tradia?sslmode=require");
        assert_eq!(out, "postgres://tradia:***@db.example:5432/tradia?sslmode=require");
        let out = redact_url("http://h:11434/?api_key=abc&x=1");
        assert!(!out.contains("abc") && out.contains("x=1"), "{out}");
        let out = redact_url("postgres://db/x?user=a&PASSWORD=1&sslmode=disable");
        assert!(!out.contains("=1&") && out.contains("user=a"), "{out}");
        assert_eq!(redact_url("https://sk-abc@gpu.example/v1"), "https://***@gpu.example/v1");
    }

    #[test]
    fn leaves_urls_without_secrets_as_given() {
        for url in ["http://localhost:11434", "postgres://tradia@db/x", "sqlite:./data/tradia.db"] {
            assert_eq!(redact_url(url), url);
        }
    }

    #[test]
    fn masks_unparseable_userinfo() {
        assert_eq!(redact_url("postgres://u:p w@h:99999/d"), "postgres://***@h:99999/d");
    }
}
