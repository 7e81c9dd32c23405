#!/usr/bin/env bash
# Checks the deployment kit without deploying it: YAML and JSON parse, the Prometheus rules and
# their unit tests (promtool), the nginx configurations (nginx -t, with the upstream names and
# certificate paths replaced by local ones), the systemd unit (systemd-analyze verify).
# A tool that is not installed is reported as skipped; with CI=true a skipped check fails.
#   deploy/check.sh            (from the repository root or anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
checked=0
skipped=0

ok() { echo "ok      $*"; checked=$((checked + 1)); }
skip() { echo "skipped $*"; skipped=$((skipped + 1)); }

# YAML and JSON.
if python3 -c 'import yaml' 2>/dev/null; then
    for f in "$here"/compose/*.yml "$here"/prometheus/*.yml; do
        python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$f"
        ok "yaml    ${f#"$here"/}"
    done
else
    skip "yaml    (python3 -c 'import yaml' fails: pip install pyyaml)"
fi
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$here/grafana/tradia-dashboard.json"
ok "json    grafana/tradia-dashboard.json"

# Prometheus rules.
if command -v promtool >/dev/null; then
    (cd "$here/prometheus" && promtool check rules tradia-rules.yml >/dev/null \
        && promtool test rules tradia-rules.test.yml >/dev/null)
    ok "promtool prometheus/tradia-rules.yml + tradia-rules.test.yml"
else
    skip "promtool (Debian: the prometheus package ships it)"
fi

# nginx: each configuration inside a minimal nginx.conf, on high ports, with a throw-away
# certificate, the upstreams on 127.0.0.1 (nginx resolves upstream names when it loads).
if command -v nginx >/dev/null && command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=check \
        -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
    : >"$tmp/htpasswd"
    for conf in tradia.conf ollama-proxy.conf; do
        sed -e 's#tradia-[0-9]:8000#127.0.0.1:9#' \
            -e 's#ssl_certificate_key .*;#ssl_certificate_key '"$tmp"'/key.pem;#' \
            -e 's#ssl_certificate .*;#ssl_certificate '"$tmp"'/cert.pem;#' \
            -e 's#auth_basic_user_file .*;#auth_basic_user_file '"$tmp"'/htpasswd;#' \
            -e 's#access_log /var/log/nginx/[^ ]*#access_log '"$tmp"'/access.log#' \
            -e 's#listen \[::\]:[0-9]*[^;]*;##' \
            -e 's#listen 443 #listen 127.0.0.1:38943 #' -e 's#listen 80;#listen 127.0.0.1:38980;#' \
            "$here/nginx/$conf" >"$tmp/$conf"
        cat >"$tmp/nginx.conf" <<EOF
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
    client_body_temp_path $tmp/body; proxy_temp_path $tmp/proxy; fastcgi_temp_path $tmp/fcgi;
    uwsgi_temp_path $tmp/uwsgi; scgi_temp_path $tmp/scgi;
    include $tmp/$conf;
}
EOF
        nginx -t -q -c "$tmp/nginx.conf"
        ok "nginx   nginx/$conf"
    done
else
    skip "nginx -t (apt-get install nginx-light)"
fi

# systemd unit, with a stand-in executable (verify checks that ExecStart exists).
if command -v systemd-analyze >/dev/null; then
    printf '#!/bin/sh\n' >"$tmp/tradia" && chmod +x "$tmp/tradia"
    sed "s#/usr/local/bin/tradia#$tmp/tradia#" "$here/systemd/tradia.service" >"$tmp/tradia.service"
    # verify only warns about an unknown or malformed setting: any output counts as a failure.
    out="$(systemd-analyze verify "$tmp/tradia.service" 2>&1)" || true
    if [ -n "$out" ]; then
        echo "$out" >&2
        echo "systemd/tradia.service: systemd-analyze verify complained" >&2
        exit 1
    fi
    ok "systemd systemd/tradia.service"
else
    skip "systemd-analyze verify"
fi

echo "$checked checked, $skipped skipped; the Dockerfile and the compose files are not run here"
if [ "${CI:-}" = "true" ] && [ "$skipped" -gt 0 ]; then
    echo "CI=true: a check was skipped" >&2
    exit 1
fi
