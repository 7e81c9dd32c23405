//! The access settings' parsing: defaults, every wrong value naming its variable, valid values.
use clap::Parser;

use super::*;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    access: AccessArgs,
}

fn parse(args: &[&str]) -> Result<AccessSettings, SettingsError> {
    let mut argv = vec!["x"];
    argv.extend_from_slice(args);
    Cli::try_parse_from(argv).unwrap().access.settings()
}

fn wrong(args: &[&str]) -> &'static str {
    parse(args).unwrap_err().name
}

#[test]
fn defaults_are_local_accounts_without_limits_that_scripts_reach() {
    let s = parse(&[]).unwrap();
    assert_eq!(s, AccessSettings::default());
    assert_eq!(s.mode, AuthMode::Accounts(AuthMethods { local: true, oidc: None, proxy: None }));
    assert_eq!(s.public_url, None);
    assert!(s.trusted_proxies.is_empty());
    assert_eq!(s.quotas, QuotaDefaults::default());
    assert!(s.rate_limit_per_minute.is_some_and(|n| n.get() >= 300));
    assert_eq!(s.sign_in_rate_per_minute.get(), 30);
    assert_eq!(s.session_lifetime, Duration::from_secs(7 * 24 * 3600));
    assert_eq!(s.audit_retention, Duration::from_secs(365 * 86_400));
}

#[test]
fn each_wrong_value_names_its_variable() {
    assert_eq!(wrong(&["--auth", "ldap"]), "TRADIA_AUTH");
    assert_eq!(wrong(&["--auth", "none,local"]), "TRADIA_AUTH");
    assert_eq!(wrong(&["--auth", " , "]), "TRADIA_AUTH");
    assert_eq!(wrong(&["--public-url", "tradia.example.org"]), "TRADIA_PUBLIC_URL");
    assert_eq!(wrong(&["--public-url", "ftp://tradia.example.org"]), "TRADIA_PUBLIC_URL");
    assert_eq!(wrong(&["--public-url", "https://t.example.org/tradia"]), "TRADIA_PUBLIC_URL");
    assert_eq!(wrong(&["--auth", "proxy"]), "TRADIA_AUTH_PROXY_HEADER");
    assert_eq!(
        wrong(&["--auth", "proxy", "--auth-proxy-header", "X-Remote-User"]),
        "TRADIA_AUTH_PROXY_TRUSTED"
    );
    assert_eq!(
        wrong(&[
            "--auth",
            "proxy",
            "--auth-proxy-header",
            "bad header",
            "--auth-proxy-trusted",
            "10.0.0.1"
        ]),
        "TRADIA_AUTH_PROXY_HEADER"
    );
    assert_eq!(wrong(&["--auth-proxy-trusted", "10.0.0.0/8,nowhere"]), "TRADIA_AUTH_PROXY_TRUSTED");
    assert_eq!(wrong(&["--auth", "oidc"]), "TRADIA_AUTH_OIDC_ISSUER");
    let https = ["--public-url", "https://t.example.org"];
    let with = |extra: &[&'static str]| {
        let mut v = vec!["--auth", "local,oidc", https[0], https[1]];
        v.extend_from_slice(extra);
        wrong(&v)
    };
    assert_eq!(with(&["--auth-oidc-issuer", "http://idp.example.org"]), "TRADIA_AUTH_OIDC_ISSUER");
    assert_eq!(
        with(&["--auth-oidc-issuer", "https://idp.example.org"]),
        "TRADIA_AUTH_OIDC_CLIENT_ID"
    );
    let oidc = ["--auth-oidc-issuer", "https://idp.example.org", "--auth-oidc-client-id", "tradia"];
    let mut v = oidc.to_vec();
    v.extend(["--auth-oidc-role-claim", "groups"]);
    assert_eq!(with(&v), "TRADIA_AUTH_OIDC_ADMIN_VALUES");
    let mut v = oidc.to_vec();
    v.extend(["--auth-oidc-label", " "]);
    assert_eq!(with(&v), "TRADIA_AUTH_OIDC_LABEL");
    let mut v = vec!["--auth", "oidc"];
    v.extend(oidc);
    assert_eq!(wrong(&v), "TRADIA_PUBLIC_URL");
    assert_eq!(wrong(&["--session-hours", "0"]), "TRADIA_SESSION_HOURS");
    assert_eq!(wrong(&["--session-hours", "a week"]), "TRADIA_SESSION_HOURS");
    assert_eq!(wrong(&["--quota-chars-per-day", "0"]), "TRADIA_QUOTA_CHARS_PER_DAY");
    assert_eq!(wrong(&["--quota-chars-per-month=-1"]), "TRADIA_QUOTA_CHARS_PER_MONTH");
    assert_eq!(wrong(&["--quota-jobs-in-progress", "many"]), "TRADIA_QUOTA_JOBS_IN_PROGRESS");
    assert_eq!(wrong(&["--quota-upload-mb", "1.5"]), "TRADIA_QUOTA_UPLOAD_MB");
    assert_eq!(wrong(&["--rate-limit-per-minute", "99999999999"]), "TRADIA_RATE_LIMIT_PER_MINUTE");
    assert_eq!(wrong(&["--sign-in-rate-per-minute", "0"]), "TRADIA_SIGN_IN_RATE_PER_MINUTE");
    assert_eq!(wrong(&["--audit-retention-days", "0"]), "TRADIA_AUDIT_RETENTION_DAYS");
}

#[test]
fn valid_values_are_read() {
    let s = parse(&[
        "--auth",
        "Local, OIDC,proxy",
        "--public-url",
        "https://Tradia.Example.org:8443/",
        "--auth-proxy-header",
        "X-Remote-User",
        "--auth-proxy-trusted",
        "10.0.0.0/8, 192.168.1.7, ::1",
        "--auth-oidc-issuer",
        "http://127.0.0.1:9000/oidc",
        "--auth-oidc-client-id",
        "tradia",
        "--auth-oidc-client-secret",
        "s3cret",
        "--auth-oidc-role-claim",
        "groups",
        "--auth-oidc-admin-values",
        "tradia-admins, dsi",
        "--quota-chars-per-day",
        "100000",
        "--quota-upload-mb",
        "10",
        "--rate-limit-per-minute",
        "0",
    ])
    .unwrap();
    let methods = s.methods().unwrap();
    assert!(methods.local);
    assert_eq!(methods.proxy.as_ref().unwrap().header, "x-remote-user");
    let oidc = methods.oidc.as_ref().unwrap();
    assert_eq!(oidc.admin_values, ["tradia-admins", "dsi"]);
    assert_eq!(oidc.label, "Single sign-on");
    let public = s.public_url.as_ref().unwrap();
    assert_eq!(public.origin, "https://tradia.example.org:8443");
    assert_eq!(public.authority, "tradia.example.org:8443");
    assert!(public.is_https());
    assert!(s.is_trusted_proxy("10.1.2.3".parse().unwrap()));
    assert!(s.is_trusted_proxy("::ffff:10.1.2.3".parse().unwrap()));
    assert!(s.is_trusted_proxy("192.168.1.7".parse().unwrap()));
    assert!(!s.is_trusted_proxy("192.168.1.8".parse().unwrap()));
    assert!(s.is_trusted_proxy("::1".parse().unwrap()));
    assert_eq!(s.quotas.chars_per_day, Some(100_000));
    assert_eq!(s.quotas.upload_bytes, Some(10 * 1024 * 1024));
    assert_eq!(s.rate_limit_per_minute, None);
    let text = s.describe();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(text.contains("TRADIA_AUTH=local,oidc,proxy\n"), "{text}");
    assert!(text.contains("TRADIA_PUBLIC_URL=https://tradia.example.org:8443\n"), "{text}");
    let none = parse(&["--auth", "none", "--public-url", "http://laptop:8000"]).unwrap();
    assert_eq!(none.mode, AuthMode::SingleUser);
    assert_eq!(none.public_url.unwrap().authority, "laptop:8000");
    let default_port = parse(&["--public-url", "https://t.example.org:443"]).unwrap();
    assert_eq!(default_port.public_url.unwrap().authority, "t.example.org");
}
