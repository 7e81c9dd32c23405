//! The drop-in APIs of other translation services (LibreTranslate, DeepL v2): each can be turned
//! off and mounted under a prefix, so it answers where the clients an organisation already runs
//! expect it.
//!
//! Both are on by default and both take API keys only. LibreTranslate's keyless mode (anonymous
//! calls accepted) is off unless `TRADIA_LIBRETRANSLATE_KEYLESS_USER` names the account that
//! anonymous calls run as and are counted against.

use clap::Args;

use super::{SettingsError, err};

/// Options of the compatible APIs (flattened into [`ServeArgs`](super::ServeArgs)).
#[derive(Debug, Clone, Args)]
pub struct CompatArgs {
    /// Serve LibreTranslate's API (`/translate`, `/detect`, `/languages`, …): `on` or `off`.
    #[arg(long, env = "TRADIA_LIBRETRANSLATE", default_value = "on")]
    pub libretranslate: String,
    /// Path prefix of LibreTranslate's API (`/lt` serves `/lt/translate`); empty: the root.
    #[arg(long, env = "TRADIA_LIBRETRANSLATE_PREFIX", default_value = "")]
    pub libretranslate_prefix: String,
    /// Login of the account that LibreTranslate calls without `api_key` run as (created on
    /// first use); unset: such calls are refused, as LibreTranslate does when keys are required.
    #[arg(long, env = "TRADIA_LIBRETRANSLATE_KEYLESS_USER")]
    pub libretranslate_keyless_user: Option<String>,
    /// Serve DeepL's API v2 (`/v2/translate`, `/v2/document`, …): `on` or `off`.
    #[arg(long, env = "TRADIA_DEEPL", default_value = "on")]
    pub deepl: String,
    /// Path prefix of DeepL's API (`/deepl` serves `/deepl/v2/translate`); empty: the root.
    #[arg(long, env = "TRADIA_DEEPL_PREFIX", default_value = "")]
    pub deepl_prefix: String,
}

/// One compatible API: on or off, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Served at all.
    pub enabled: bool,
    /// Path prefix (`""` or `/something`, no trailing slash).
    pub prefix: String,
}

impl Mount {
    /// On, at the root.
    pub fn root() -> Self {
        Mount { enabled: true, prefix: String::new() }
    }

    /// The full path of `path` (which starts with `/`).
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.prefix)
    }

    /// True when `request_path` is one of this API's `paths` under the prefix.
    pub fn owns(&self, request_path: &str, paths: &[&str]) -> bool {
        if !self.enabled {
            return false;
        }
        let Some(rest) = request_path.strip_prefix(self.prefix.as_str()) else { return false };
        paths.iter().any(|p| match p.strip_suffix("/*") {
            Some(dir) => rest.strip_prefix(dir).is_some_and(|r| r.starts_with('/')),
            None => rest == *p,
        })
    }
}

/// The checked options of the compatible APIs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatSettings {
    /// LibreTranslate's API.
    pub libretranslate: Mount,
    /// The account keyless LibreTranslate calls run as; `None`: keys required.
    pub libretranslate_keyless_user: Option<String>,
    /// DeepL's API v2.
    pub deepl: Mount,
}

impl Default for CompatSettings {
    /// Both on at the root, keys required.
    fn default() -> Self {
        CompatSettings {
            libretranslate: Mount::root(),
            libretranslate_keyless_user: None,
            deepl: Mount::root(),
        }
    }
}

fn switch(name: &'static str, value: &str) -> Result<bool, SettingsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        other => Err(err(name, format!("`{other}`: expected on or off"))),
    }
}

fn prefix(name: &'static str, value: &str) -> Result<String, SettingsError> {
    let value = value.trim().trim_end_matches('/');
    if value.is_empty() {
        return Ok(String::new());
    }
    let ok = value.starts_with('/')
        && value[1..].split('/').all(|s| {
            !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    if !ok || value.starts_with("/api") {
        return Err(err(
            name,
            format!(
                "`{value}`: expected a path such as /deepl (letters, digits, - _ .; not under /api)"
            ),
        ));
    }
    Ok(value.to_string())
}

impl CompatArgs {
    /// Checks every value; the error names the first wrong variable.
    pub fn settings(&self) -> Result<CompatSettings, SettingsError> {
        let keyless = self
            .libretranslate_keyless_user
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        Ok(CompatSettings {
            libretranslate: Mount {
                enabled: switch("TRADIA_LIBRETRANSLATE", &self.libretranslate)?,
                prefix: prefix("TRADIA_LIBRETRANSLATE_PREFIX", &self.libretranslate_prefix)?,
            },
            libretranslate_keyless_user: keyless,
            deepl: Mount {
                enabled: switch("TRADIA_DEEPL", &self.deepl)?,
                prefix: prefix("TRADIA_DEEPL_PREFIX", &self.deepl_prefix)?,
            },
        })
    }
}

impl CompatSettings {
    /// `NAME=value` lines for `--check-config`.
    pub fn describe(&self) -> String {
        let on = |m: &Mount| if m.enabled { "on" } else { "off" };
        format!(
            "TRADIA_LIBRETRANSLATE={}\nTRADIA_LIBRETRANSLATE_PREFIX={}\nTRADIA_LIBRETRANSLATE_KEYLESS_USER={}\nTRADIA_DEEPL={}\nTRADIA_DEEPL_PREFIX={}\n",
            on(&self.libretranslate),
            self.libretranslate.prefix,
            self.libretranslate_keyless_user.as_deref().unwrap_or("(keys required)"),
            on(&self.deepl),
            self.deepl.prefix,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_switches() {
        assert_eq!(prefix("X", "/deepl/").unwrap(), "/deepl");
        assert_eq!(prefix("X", "").unwrap(), "");
        assert!(prefix("X", "deepl").is_err());
        assert!(prefix("X", "/api/x").is_err());
        assert!(prefix("X", "/a b").is_err());
        assert!(switch("X", "OFF").is_ok_and(|v| !v));
        assert!(switch("X", "maybe").is_err());
        let m = Mount { enabled: true, prefix: "/lt".into() };
        assert!(m.owns("/lt/translate", &["/translate"]));
        assert!(!m.owns("/translate", &["/translate"]));
        assert!(m.owns("/lt/download_file/x", &["/download_file/*"]));
        assert!(!m.owns("/lt/download_filex", &["/download_file/*"]));
    }
}
