//! Who may use the service and how much: the sign-in methods, the public address, trusted
//! proxies, sessions, quotas, rate limits and the audit log's retention.
//!
//! These settings decide what an unauthenticated request from the network can do, so each is
//! checked at start-up with an error naming its variable, and none has a permissive default that
//! an administrator would have to remember to close: accounts are on (`TRADIA_AUTH=local`), the
//! `Host` check is on as soon as `TRADIA_PUBLIC_URL` is set, and no proxy is trusted until listed.
//! Quotas default to unlimited and rate limits to values that ordinary scripted use never reaches.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderName;
use clap::Args;
use ipnet::IpNet;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{SettingsError, err, mask_secret};

/// Access options of `tradia serve` (flattened into [`ServeArgs`](super::ServeArgs)).
#[derive(Debug, Clone, Args)]
pub struct AccessArgs {
    /// Sign-in methods, comma-separated: `local`, `oidc`, `proxy`; or `none` alone for
    /// single-user mode (everything belongs to one local user; for a laptop or a lab).
    #[arg(long = "auth", env = "TRADIA_AUTH", default_value = "local")]
    pub auth: String,
    /// The address people use to reach the service (`https://tradia.example.org`). Requests
    /// naming another `Host` are refused (DNS rebinding); also builds the OpenID Connect
    /// redirect. Unset: no `Host` check.
    #[arg(long, env = "TRADIA_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Header carrying the signed-in user's login, set by a trusted reverse proxy
    /// (`TRADIA_AUTH=proxy`), e.g. `X-Remote-User`.
    #[arg(long, env = "TRADIA_AUTH_PROXY_HEADER")]
    pub auth_proxy_header: Option<String>,
    /// Addresses or networks (CIDR) of the reverse proxies whose headers are believed
    /// (`X-Forwarded-For`, `X-Forwarded-Proto`, the proxy sign-in header), comma-separated.
    #[arg(long, env = "TRADIA_AUTH_PROXY_TRUSTED")]
    pub auth_proxy_trusted: Option<String>,
    /// OpenID Connect issuer URL (`TRADIA_AUTH=oidc`).
    #[arg(long, env = "TRADIA_AUTH_OIDC_ISSUER")]
    pub auth_oidc_issuer: Option<String>,
    /// OpenID Connect client id.
    #[arg(long, env = "TRADIA_AUTH_OIDC_CLIENT_ID")]
    pub auth_oidc_client_id: Option<String>,
    /// OpenID Connect client secret (absent for a public client, which PKCE protects).
    #[arg(long, env = "TRADIA_AUTH_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub auth_oidc_client_secret: Option<String>,
    /// ID-token claim whose values decide the role (e.g. `groups`); unset: everyone signs in
    /// as `user`.
    #[arg(long, env = "TRADIA_AUTH_OIDC_ROLE_CLAIM")]
    pub auth_oidc_role_claim: Option<String>,
    /// Values of that claim that make an administrator, comma-separated.
    #[arg(long, env = "TRADIA_AUTH_OIDC_ADMIN_VALUES")]
    pub auth_oidc_admin_values: Option<String>,
    /// Label of the single-sign-on button in the page.
    #[arg(long, env = "TRADIA_AUTH_OIDC_LABEL", default_value = "Single sign-on")]
    pub auth_oidc_label: String,
    /// Hours a sign-in session lasts.
    #[arg(long, env = "TRADIA_SESSION_HOURS", default_value = "168")]
    pub session_hours: String,
    /// Default characters a user may translate per day (`unlimited`, or a number).
    #[arg(long, env = "TRADIA_QUOTA_CHARS_PER_DAY", default_value = "unlimited")]
    pub quota_chars_per_day: String,
    /// Default characters a user may translate per calendar month (`unlimited`, or a number).
    #[arg(long, env = "TRADIA_QUOTA_CHARS_PER_MONTH", default_value = "unlimited")]
    pub quota_chars_per_month: String,
    /// Default document jobs a user may have queued or running at once (`unlimited`, or a
    /// number).
    #[arg(long, env = "TRADIA_QUOTA_JOBS_IN_PROGRESS", default_value = "unlimited")]
    pub quota_jobs_in_progress: String,
    /// Default largest upload of a user, in megabytes (`unlimited`: only `MAX_UPLOAD_MB`).
    #[arg(long, env = "TRADIA_QUOTA_UPLOAD_MB", default_value = "unlimited")]
    pub quota_upload_mb: String,
    /// Requests a minute allowed per user, and per address for unauthenticated requests
    /// (`0`: no limit).
    #[arg(long, env = "TRADIA_RATE_LIMIT_PER_MINUTE", default_value = "600")]
    pub rate_limit_per_minute: String,
    /// Sign-in and set-up attempts a minute allowed per address.
    #[arg(long, env = "TRADIA_SIGN_IN_RATE_PER_MINUTE", default_value = "30")]
    pub sign_in_rate_per_minute: String,
    /// Days audit-log entries are kept.
    #[arg(long, env = "TRADIA_AUDIT_RETENTION_DAYS", default_value = "365")]
    pub audit_retention_days: String,
}

/// How people are identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// `TRADIA_AUTH=none`: one implicit local user owns everything; no sign-in.
    SingleUser,
    /// Accounts, signed in by one or more of these methods.
    Accounts(AuthMethods),
}

/// The sign-in methods enabled together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthMethods {
    /// Local accounts with a password.
    pub local: bool,
    /// OpenID Connect (boxed: it is much larger than the rest).
    pub oidc: Option<Box<OidcSettings>>,
    /// A header set by a trusted reverse proxy.
    pub proxy: Option<ProxyAuth>,
}

/// OpenID Connect client settings (the flow itself lives behind this seam).
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer (discovery at `{issuer}/.well-known/openid-configuration`).
    pub issuer: Url,
    /// Client id.
    pub client_id: String,
    /// Client secret, if the client is confidential.
    pub client_secret: Option<SecretString>,
    /// Claim deciding the role, if any.
    pub role_claim: Option<String>,
    /// Claim values that make an administrator.
    pub admin_values: Vec<String>,
    /// The sign-in button's label.
    pub label: String,
}

impl PartialEq for OidcSettings {
    fn eq(&self, other: &Self) -> bool {
        let secret = |s: &Self| s.client_secret.as_ref().map(|s| s.expose_secret().to_string());
        self.issuer == other.issuer
            && self.client_id == other.client_id
            && secret(self) == secret(other)
            && self.role_claim == other.role_claim
            && self.admin_values == other.admin_values
            && self.label == other.label
    }
}

impl Eq for OidcSettings {}

/// Sign-in by a header that a trusted reverse proxy sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAuth {
    /// The header carrying the login.
    pub header: HeaderName,
}

/// The public address, as the `Host` check and redirects need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// The URL as configured.
    pub url: Url,
    /// `scheme://host[:port]`, as browsers send it in `Origin`.
    pub origin: String,
    /// `host[:port]` in lower case, the port only when not the scheme's default.
    pub authority: String,
}

impl PublicUrl {
    /// True when the public address is `https`.
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }
}

/// Default per-user limits; `None` is unlimited. An administrator may override them per user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaDefaults {
    /// Characters translated per day.
    pub chars_per_day: Option<u64>,
    /// Characters translated per calendar month.
    pub chars_per_month: Option<u64>,
    /// Document jobs queued or running at once.
    pub jobs_in_progress: Option<u64>,
    /// Largest upload, in bytes.
    pub upload_bytes: Option<u64>,
}

/// Checked access settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    /// How people are identified.
    pub mode: AuthMode,
    /// The public address; `None`: no `Host` check.
    pub public_url: Option<PublicUrl>,
    /// Proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// How long a sign-in session lasts.
    pub session_lifetime: Duration,
    /// Default quotas.
    pub quotas: QuotaDefaults,
    /// Requests a minute per user or address; `None`: no limit.
    pub rate_limit_per_minute: Option<NonZeroU32>,
    /// Sign-in attempts a minute per address.
    pub sign_in_rate_per_minute: NonZeroU32,
    /// How long audit entries are kept.
    pub audit_retention: Duration,
}

impl Default for AccessSettings {
    /// The defaults of the flags: local accounts, no `Host` check, no trusted proxy.
    fn default() -> Self {
        AccessSettings {
            mode: AuthMode::Accounts(AuthMethods { local: true, oidc: None, proxy: None }),
            public_url: None,
            trusted_proxies: Vec::new(),
            session_lifetime: Duration::from_secs(168 * 3600),
            quotas: QuotaDefaults::default(),
            rate_limit_per_minute: NonZeroU32::new(600),
            sign_in_rate_per_minute: NonZeroU32::MIN.saturating_add(29),
            audit_retention: Duration::from_secs(365 * 86_400),
        }
    }
}

impl AccessSettings {
    /// Single-user mode (`TRADIA_AUTH=none`), otherwise the defaults.
    pub fn single_user() -> Self {
        AccessSettings { mode: AuthMode::SingleUser, ..AccessSettings::default() }
    }

    /// True when `addr` is one of the trusted proxies.
    pub fn is_trusted_proxy(&self, addr: IpAddr) -> bool {
        let addr = canonical_ip(addr);
        self.trusted_proxies.iter().any(|net| net.contains(&addr))
    }

    /// The enabled sign-in methods; `None` in single-user mode.
    pub fn methods(&self) -> Option<&AuthMethods> {
        match &self.mode {
            AuthMode::SingleUser => None,
            AuthMode::Accounts(methods) => Some(methods),
        }
    }

    /// `NAME=value` lines for `--check-config`, secrets masked.
    pub fn describe(&self) -> String {
        let auth = match &self.mode {
            AuthMode::SingleUser => "none".to_string(),
            AuthMode::Accounts(m) => {
                let mut names = Vec::new();
                if m.local {
                    names.push("local");
                }
                if m.oidc.is_some() {
                    names.push("oidc");
                }
                if m.proxy.is_some() {
                    names.push("proxy");
                }
                names.join(",")
            }
        };
        let limit = |v: Option<u64>| v.map_or_else(|| "unlimited".to_string(), |n| n.to_string());
        let mut lines = vec![
            ("TRADIA_AUTH", auth),
            (
                "TRADIA_PUBLIC_URL",
                self.public_url
                    .as_ref()
                    .map_or("(not set: no Host check)".into(), |p| p.origin.clone()),
            ),
            (
                "TRADIA_AUTH_PROXY_TRUSTED",
                self.trusted_proxies.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
            ),
        ];
        if let Some(methods) = self.methods() {
            if let Some(proxy) = &methods.proxy {
                lines.push(("TRADIA_AUTH_PROXY_HEADER", proxy.header.to_string()));
            }
            if let Some(oidc) = &methods.oidc {
                lines.push(("TRADIA_AUTH_OIDC_ISSUER", oidc.issuer.to_string()));
                lines.push(("TRADIA_AUTH_OIDC_CLIENT_ID", oidc.client_id.clone()));
                lines.push((
                    "TRADIA_AUTH_OIDC_CLIENT_SECRET",
                    mask_secret(oidc.client_secret.as_ref().map(|s| s.expose_secret())),
                ));
                lines.push((
                    "TRADIA_AUTH_OIDC_ROLE_CLAIM",
                    oidc.role_claim.clone().unwrap_or_else(|| "(not set)".into()),
                ));
                lines.push(("TRADIA_AUTH_OIDC_ADMIN_VALUES", oidc.admin_values.join(",")));
                lines.push(("TRADIA_AUTH_OIDC_LABEL", oidc.label.clone()));
            }
        }
        lines.extend([
            ("TRADIA_SESSION_HOURS", (self.session_lifetime.as_secs() / 3600).to_string()),
            ("TRADIA_QUOTA_CHARS_PER_DAY", limit(self.quotas.chars_per_day)),
            ("TRADIA_QUOTA_CHARS_PER_MONTH", limit(self.quotas.chars_per_month)),
            ("TRADIA_QUOTA_JOBS_IN_PROGRESS", limit(self.quotas.jobs_in_progress)),
            ("TRADIA_QUOTA_UPLOAD_MB", limit(self.quotas.upload_bytes.map(|b| b / (1024 * 1024)))),
            (
                "TRADIA_RATE_LIMIT_PER_MINUTE",
                self.rate_limit_per_minute.map_or("0 (no limit)".into(), |n| n.to_string()),
            ),
            ("TRADIA_SIGN_IN_RATE_PER_MINUTE", self.sign_in_rate_per_minute.to_string()),
            ("TRADIA_AUDIT_RETENTION_DAYS", (self.audit_retention.as_secs() / 86_400).to_string()),
        ]);
        lines.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, how a dual-stack listener reports IPv4
/// peers) as the IPv4 address, so `10.0.0.0/8` matches it.
pub fn canonical_ip(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// A value that is set and not blank.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn comma_list(value: Option<&str>) -> Vec<String> {
    value
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

fn number(name: &'static str, value: &str) -> Result<u64, SettingsError> {
    value.trim().parse().map_err(|_| err(name, format!("`{value}` is not a whole number")))
}

/// `unlimited` (or empty) → `None`; a positive number → `Some`.
fn limit(name: &'static str, value: &str) -> Result<Option<u64>, SettingsError> {
    let v = value.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("unlimited") {
        return Ok(None);
    }
    match number(name, v)? {
        0 => Err(err(name, "must be at least 1, or `unlimited`")),
        n => Ok(Some(n)),
    }
}

fn per_minute(name: &'static str, value: &str) -> Result<u32, SettingsError> {
    let n = number(name, value)?;
    u32::try_from(n).map_err(|_| err(name, format!("`{value}` is too large")))
}

impl PublicUrl {
    /// Reads `TRADIA_PUBLIC_URL`.
    pub fn parse(value: &str) -> Result<PublicUrl, SettingsError> {
        parse_public_url(value)
    }
}

fn parse_public_url(value: &str) -> Result<PublicUrl, SettingsError> {
    const NAME: &str = "TRADIA_PUBLIC_URL";
    let url = Url::parse(value).map_err(|e| {
        err(NAME, format!("`{value}` is not a URL like https://tradia.example.org ({e})"))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(err(NAME, format!("`{value}`: expected http:// or https://")));
    }
    let Some(host) = url.host_str() else {
        return Err(err(NAME, format!("`{value}` names no host")));
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(err(NAME, "must not contain a user name or password"));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(err(
            NAME,
            format!("`{value}`: Tradia is served at the root of its address; give no path"),
        ));
    }
    let host = host.to_ascii_lowercase();
    let authority = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    let origin = format!("{}://{authority}", url.scheme());
    Ok(PublicUrl { url, origin, authority })
}

/// Reads `TRADIA_AUTH_PROXY_TRUSTED`: addresses and networks, comma-separated.
pub fn parse_trusted_proxies(value: &str) -> Result<Vec<IpNet>, SettingsError> {
    parse_trusted(Some(value))
}

fn parse_trusted(value: Option<&str>) -> Result<Vec<IpNet>, SettingsError> {
    const NAME: &str = "TRADIA_AUTH_PROXY_TRUSTED";
    comma_list(value)
        .iter()
        .map(|item| {
            item.parse::<IpNet>()
                .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                .map(|net| match net {
                    IpNet::V6(v6) => match v6.addr().to_ipv4_mapped() {
                        Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len().saturating_sub(96))
                            .unwrap_or(IpNet::V6(v6)),
                        None => IpNet::V6(v6),
                    },
                    v4 => v4,
                })
                .map_err(|_| {
                    err(NAME, format!("`{item}` is not an address or a network like 10.0.0.0/8"))
                })
        })
        .collect()
}

fn parse_oidc(args: &AccessArgs) -> Result<OidcSettings, SettingsError> {
    const ISSUER: &str = "TRADIA_AUTH_OIDC_ISSUER";
    let Some(issuer) = given(&args.auth_oidc_issuer) else {
        return Err(err(ISSUER, "required when TRADIA_AUTH includes `oidc`"));
    };
    let issuer =
        Url::parse(issuer).map_err(|e| err(ISSUER, format!("`{issuer}` is not a URL ({e})")))?;
    let loopback = match issuer.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    // The ID token's signing keys are fetched from the issuer: over plain HTTP anyone on the path
    // could sign tokens. Only a provider on this very machine (tests, a sidecar) may use http.
    if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
        return Err(err(ISSUER, format!("`{issuer}`: must be https:// (http only on localhost)")));
    }
    let Some(client_id) = given(&args.auth_oidc_client_id) else {
        return Err(err("TRADIA_AUTH_OIDC_CLIENT_ID", "required when TRADIA_AUTH includes `oidc`"));
    };
    let role_claim = given(&args.auth_oidc_role_claim).map(str::to_string);
    let admin_values = comma_list(given(&args.auth_oidc_admin_values));
    if role_claim.is_none() && !admin_values.is_empty() {
        return Err(err(
            "TRADIA_AUTH_OIDC_ADMIN_VALUES",
            "given without TRADIA_AUTH_OIDC_ROLE_CLAIM (the claim to look them up in)",
        ));
    }
    if role_claim.is_some() && admin_values.is_empty() {
        return Err(err(
            "TRADIA_AUTH_OIDC_ADMIN_VALUES",
            "required with TRADIA_AUTH_OIDC_ROLE_CLAIM (the claim values that make an administrator)",
        ));
    }
    let label = args.auth_oidc_label.trim();
    if label.is_empty() || label.chars().count() > 60 {
        return Err(err("TRADIA_AUTH_OIDC_LABEL", "must have 1 to 60 characters"));
    }
    Ok(OidcSettings {
        issuer,
        client_id: client_id.to_string(),
        client_secret: given(&args.auth_oidc_client_secret)
            .map(|s| SecretString::from(s.to_string())),
        role_claim,
        admin_values,
        label: label.to_string(),
    })
}

impl AccessArgs {
    /// Checks every value; the error names the first wrong variable.
    pub fn settings(&self) -> Result<AccessSettings, SettingsError> {
        const AUTH: &str = "TRADIA_AUTH";
        let names = comma_list(Some(&self.auth.to_ascii_lowercase()));
        if names.is_empty() {
            return Err(err(
                AUTH,
                "empty: give `local`, `oidc`, `proxy` (comma-separated) or `none`",
            ));
        }
        let public_url = given(&self.public_url).map(parse_public_url).transpose()?;
        let trusted_proxies = parse_trusted(given(&self.auth_proxy_trusted))?;
        let mode = if names.iter().any(|n| n == "none") {
            if names.len() > 1 {
                return Err(err(
                    AUTH,
                    "`none` (single-user mode) cannot be combined with other methods",
                ));
            }
            AuthMode::SingleUser
        } else {
            let mut methods = AuthMethods { local: false, oidc: None, proxy: None };
            for name in &names {
                match name.as_str() {
                    "local" => methods.local = true,
                    "oidc" => methods.oidc = Some(Box::new(parse_oidc(self)?)),
                    "proxy" => {
                        let Some(header) = given(&self.auth_proxy_header) else {
                            return Err(err(
                                "TRADIA_AUTH_PROXY_HEADER",
                                "required when TRADIA_AUTH includes `proxy`",
                            ));
                        };
                        let header = HeaderName::try_from(header).map_err(|_| {
                            err(
                                "TRADIA_AUTH_PROXY_HEADER",
                                format!("`{header}` is not a header name"),
                            )
                        })?;
                        if trusted_proxies.is_empty() {
                            return Err(err(
                                "TRADIA_AUTH_PROXY_TRUSTED",
                                "required when TRADIA_AUTH includes `proxy`: without it anyone could \
                                 send the header",
                            ));
                        }
                        methods.proxy = Some(ProxyAuth { header });
                    }
                    other => {
                        return Err(err(
                            AUTH,
                            format!(
                                "`{other}` is not a method: use `local`, `oidc`, `proxy` or `none`"
                            ),
                        ));
                    }
                }
            }
            if methods.oidc.is_some() && public_url.is_none() {
                return Err(err(
                    "TRADIA_PUBLIC_URL",
                    "required when TRADIA_AUTH includes `oidc` (it builds the redirect address)",
                ));
            }
            AuthMode::Accounts(methods)
        };
        let session_hours = number("TRADIA_SESSION_HOURS", &self.session_hours)?;
        if !(1..=8760).contains(&session_hours) {
            return Err(err("TRADIA_SESSION_HOURS", "must be between 1 and 8760 (a year)"));
        }
        let upload_mb = limit("TRADIA_QUOTA_UPLOAD_MB", &self.quota_upload_mb)?;
        let quotas = QuotaDefaults {
            chars_per_day: limit("TRADIA_QUOTA_CHARS_PER_DAY", &self.quota_chars_per_day)?,
            chars_per_month: limit("TRADIA_QUOTA_CHARS_PER_MONTH", &self.quota_chars_per_month)?,
            jobs_in_progress: limit("TRADIA_QUOTA_JOBS_IN_PROGRESS", &self.quota_jobs_in_progress)?,
            upload_bytes: upload_mb.map(|mb| mb.saturating_mul(1024 * 1024)),
        };
        let rate_limit_per_minute = NonZeroU32::new(per_minute(
            "TRADIA_RATE_LIMIT_PER_MINUTE",
            &self.rate_limit_per_minute,
        )?);
        let Some(sign_in_rate_per_minute) = NonZeroU32::new(per_minute(
            "TRADIA_SIGN_IN_RATE_PER_MINUTE",
            &self.sign_in_rate_per_minute,
        )?) else {
            return Err(err("TRADIA_SIGN_IN_RATE_PER_MINUTE", "must be at least 1"));
        };
        let retention_days = number("TRADIA_AUDIT_RETENTION_DAYS", &self.audit_retention_days)?;
        if retention_days == 0 {
            return Err(err("TRADIA_AUDIT_RETENTION_DAYS", "must be at least 1"));
        }
        Ok(AccessSettings {
            mode,
            public_url,
            trusted_proxies,
            session_lifetime: Duration::from_secs(session_hours * 3600),
            quotas,
            rate_limit_per_minute,
            sign_in_rate_per_minute,
            audit_retention: Duration::from_secs(retention_days.saturating_mul(86_400)),
        })
    }
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
