// The accounts part of the Node stand-in for `tradia serve` (test-only), faithful to the HTTP
// contract in the coordinator's auth-api.md: the `tradia_session` cookie, the `X-CSRF-Token`
// header with a strict `Origin` check on cookie-authenticated unsafe requests, API keys as
// `Authorization: Bearer tdk_…`, the first-start set-up with a one-time token, sign-in
// throttling, `/api/v1/me`, keys, and the administration routes. It lets the page's accounts
// screens be built and tested before the service has them, and without a Rust build.
import { randomBytes, randomUUID } from 'node:crypto';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const NO_QUOTAS = { chars_per_day: null, chars_per_month: null, jobs_in_progress: null, upload_bytes: null };

const weak = (password) => [...password].length < 10;

function token(prefix = '') { return prefix + randomBytes(18).toString('base64url'); }

function cookies(req) {
  const out = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/**
 * The accounts state of one mock server. `mode` is `local` (sign-in required), `none` (single
 * user) or `oidc`; `users` are the accounts it starts with (`{login, password, role?,
 * display_name?, state?}`): without an active administrator among them, as for the service, the
 * first start's set-up is required; `throttleAfter` failures of one login in a minute answer
 * `429 sign_in_throttled`.
 */
export function createAccounts({ mode = 'none', users = [], throttleAfter = 5, oidcLabel = null } = {}) {
  const setupRequired = mode !== 'none' && !users.some((u) => u.role === 'admin' && (u.state ?? 'active') === 'active');
  const byId = new Map();
  const sessions = new Map(); // session id → { userId, csrf }
  const keys = new Map(); // key id → { id, userId, name, prefix, key, created_at, last_used_at }
  const teams = new Map(); // team id → { id, name, members: Set<user id> }
  const failures = new Map(); // login → [times]
  const audit = [];
  const setupToken = setupRequired ? token() : null;
  let setupDone = !setupRequired;

  const addUser = ({ login, password = null, role = 'user', display_name = null, email = null, state = 'active' }) => {
    const user = { id: randomUUID(), login, password, role, state, display_name: display_name ?? login, email,
      quotas: { ...NO_QUOTAS }, usage: { chars_today: 0, chars_month: 0, jobs_in_progress: 0 }, created_at: new Date().toISOString(), last_sign_in_at: null };
    byId.set(user.id, user);
    return user;
  };
  for (const u of users) addUser(u);
  // Single-user mode's one local user administers the service, as the service's does.
  const local = mode === 'none' ? addUser({ login: 'local', role: 'admin', display_name: 'Local user' }) : null;
  const findLogin = (login) => [...byId.values()].find((u) => u.login === login);
  // As the store keeps them: the actor by id, the address, never any document text.
  const record = (req, caller, action, object = null, detail = null) => audit.push({
    id: audit.length + 1, at: new Date().toISOString(), actor: caller?.id ?? null, action,
    remote_addr: req.socket.remoteAddress, object, detail,
  });

  const teamsOf = (user) => [...teams.values()].filter((t) => t.members.has(user.id)).map((t) => ({ id: t.id, name: t.name }));
  const me = (user, session, auth) => ({
    id: user.id, login: user.login, display_name: user.display_name, email: user.email, role: user.role,
    teams: teamsOf(user), usage: { ...user.usage }, quotas: { ...user.quotas }, csrf_token: session?.csrf ?? null, auth,
  });
  const adminView = (user) => ({
    id: user.id, login: user.login, display_name: user.display_name, email: user.email, role: user.role,
    state: user.state, quotas: { ...user.quotas }, has_password: !!user.password, created_at: user.created_at,
    last_sign_in_at: user.last_sign_in_at,
  });

  const signIn = (res, user) => {
    user.last_sign_in_at = new Date().toISOString();
    const sid = token();
    const session = { userId: user.id, csrf: token() };
    sessions.set(sid, session);
    res.setHeader('Set-Cookie', `tradia_session=${sid}; HttpOnly; SameSite=Lax; Path=/`);
    return { user: me(user, session, 'session'), csrf_token: session.csrf };
  };

  /** A new API key of `user`, made by `actor`: the answer that shows it once. */
  const newKey = (req, actor, user, name) => {
    const key = { id: randomUUID(), userId: user.id, name: name || 'key', key: token('tdk_'), created_at: new Date().toISOString(), last_used_at: null };
    key.prefix = key.key.slice(0, 8);
    keys.set(key.id, key);
    record(req, actor, 'key_created', key.id, actor === user ? null : { user: user.id });
    return { id: key.id, name: key.name, prefix: key.prefix, key: key.key };
  };

  /** The caller of a request: { user, session, auth } or null. */
  const callerOf = (req) => {
    if (local) return { user: local, session: null, auth: 'none' };
    const bearer = (req.headers.authorization ?? '').match(/^Bearer\s+(\S+)$/i)?.[1];
    if (bearer) {
      const key = [...keys.values()].find((k) => k.key === bearer);
      const user = key && byId.get(key.userId);
      if (!user || user.state !== 'active') return null;
      key.last_used_at = new Date().toISOString();
      return { user, session: null, auth: 'api_key' };
    }
    const sid = cookies(req).tradia_session;
    const session = sid && sessions.get(sid);
    const user = session && byId.get(session.userId);
    if (!user || user.state !== 'active') return null;
    return { user, session, auth: 'session', sid };
  };

  /** `403 csrf_failed` unless a cookie-authenticated unsafe request has the token and our origin. */
  const csrfOk = (req, caller) => {
    if (!UNSAFE.has(req.method) || caller.auth !== 'session') return true;
    if (req.headers['x-csrf-token'] !== caller.session.csrf) return false;
    const origin = req.headers.origin;
    return !origin || origin === `http://${req.headers.host}`;
  };

  const config = () => ({
    mode: local ? 'none' : mode, local: mode !== 'oidc' && !local, oidc: mode === 'oidc', oidc_label: mode === 'oidc' ? oidcLabel ?? 'SSO' : null,
    setup_required: !setupDone, single_user: !!local,
    // The tests run without TRADIA_PUBLIC_URL: the service's Host check is off.
    host_check_off: true,
  });

  /**
   * Handles the accounts routes. Returns true when it answered; otherwise `req.caller` is set
   * for the jobs and text routes (which then answer only the caller's objects).
   */
  const handle = async (req, res, p, { json, error, readJson }) => {
    if (p === '/api/v1/auth/setup' && req.method === 'POST') {
      const input = await readJson(req);
      if (setupDone) return error(res, 409, 'setup_done', 'an administrator exists'), true;
      if (!input.token || input.token !== setupToken) return error(res, 403, 'setup_token_invalid', 'wrong set-up token'), true;
      if (!input.login || !input.password) return error(res, 400, 'invalid_request', 'login and password are required'), true;
      if (weak(input.password)) return error(res, 400, 'invalid_request', '`password` must have at least 10 characters'), true;
      const user = addUser({ login: input.login, password: input.password, role: 'admin', display_name: input.display_name || input.login });
      setupDone = true;
      record(req, user, 'setup', user.id);
      return json(res, 200, signIn(res, user)), true;
    }
    if (p === '/api/v1/auth/login' && req.method === 'POST') {
      const input = await readJson(req);
      const now = Date.now();
      const recent = (failures.get(input.login) ?? []).filter((t) => now - t < 60000);
      if (recent.length >= throttleAfter) {
        const wait = Math.ceil((recent[0] + 60000 - now) / 1000);
        record(req, null, 'sign_in_throttled', null, input.login);
        res.setHeader('Retry-After', String(wait));
        return error(res, 429, 'sign_in_throttled', `too many failed sign-ins: retry in ${wait} s`), true;
      }
      const user = findLogin(input.login);
      if (!user || !user.password || user.password !== input.password) {
        failures.set(input.login, [...recent, now]);
        record(req, null, 'sign_in_failed', null, input.login);
        return error(res, 401, 'invalid_credentials', 'wrong login or password'), true;
      }
      if (user.state !== 'active') return error(res, 403, 'account_disabled', 'this account is disabled'), true;
      failures.delete(input.login);
      record(req, user, 'sign_in', user.id);
      return json(res, 200, signIn(res, user)), true;
    }
    if (p.startsWith('/api/v1/auth/oidc/')) return error(res, 400, 'oidc_failed', 'the mock has no OpenID provider'), true;
    if (p === '/api/v1/config' || !p.startsWith('/api/v1/')) return false;

    const caller = callerOf(req);
    if (!caller) return error(res, 401, 'unauthenticated', 'sign in first'), true;
    if (!csrfOk(req, caller)) return error(res, 403, 'csrf_failed', 'missing or wrong X-CSRF-Token'), true;
    req.caller = caller;
    const { user } = caller;

    if (p === '/api/v1/auth/logout' && req.method === 'POST') {
      if (caller.sid) sessions.delete(caller.sid);
      res.setHeader('Set-Cookie', 'tradia_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0');
      res.writeHead(204);
      return res.end(), true;
    }
    if (p === '/api/v1/me' && req.method === 'GET') return json(res, 200, me(user, caller.session, caller.auth)), true;
    if (p === '/api/v1/me/keys' && req.method === 'GET') {
      const mine = [...keys.values()].filter((k) => k.userId === user.id)
        .map(({ id, name, prefix, created_at, last_used_at }) => ({ id, name, prefix, created_at, last_used_at }));
      return json(res, 200, { keys: mine }), true;
    }
    if (p === '/api/v1/me/keys' && req.method === 'POST') {
      const input = await readJson(req);
      return json(res, 201, newKey(req, user, user, input.name)), true;
    }
    const km = p.match(/^\/api\/v1\/me\/keys\/([\w-]+)$/);
    if (km && req.method === 'DELETE') {
      const key = keys.get(km[1]);
      if (!key || key.userId !== user.id) return error(res, 404, 'key_not_found', 'no such key'), true;
      keys.delete(key.id);
      record(req, user, 'key_revoked', key.id);
      res.writeHead(204);
      return res.end(), true;
    }
    if (p.startsWith('/api/v1/admin/')) {
      if (user.role !== 'admin') return error(res, 403, 'forbidden', 'administrators only'), true;
      await handleAdmin(req, res, p, user, { json, error, readJson });
      return true;
    }
    return false;
  };

  const handleAdmin = async (req, res, p, admin, { json, error, readJson }) => {
    const url = new URL(req.url, 'http://localhost');
    if (p === '/api/v1/admin/users' && req.method === 'GET') return json(res, 200, { users: [...byId.values()].map(adminView) });
    if (p === '/api/v1/admin/users' && req.method === 'POST') {
      const input = await readJson(req);
      if (!input.login) return error(res, 400, 'invalid_request', 'login is required');
      if (findLogin(input.login)) return error(res, 400, 'invalid_request', `login ${input.login} is taken`);
      if (input.password && weak(input.password)) return error(res, 400, 'invalid_request', '`password` must have at least 10 characters');
      const user = addUser({ login: input.login, password: input.password ?? null, role: input.role ?? 'user', display_name: input.display_name || input.login, email: input.email ?? null });
      record(req, admin, 'user_created', user.id);
      return json(res, 201, adminView(user));
    }
    const uk = p.match(/^\/api\/v1\/admin\/users\/([\w-]+)\/keys$/);
    if (uk && req.method === 'POST') {
      const user = byId.get(uk[1]);
      if (!user) return error(res, 404, 'user_not_found', 'no such user');
      const input = await readJson(req);
      return json(res, 201, newKey(req, admin, user, input.name));
    }
    const um = p.match(/^\/api\/v1\/admin\/users\/([\w-]+)$/);
    if (um) {
      const user = byId.get(um[1]);
      if (!user) return error(res, 404, 'user_not_found', 'no such user');
      if (req.method === 'PATCH') {
        const input = await readJson(req);
        if (input.password && weak(input.password)) return error(res, 400, 'invalid_request', '`password` must have at least 10 characters');
        // The details say what changed, as the service's do: `{from, to}`.
        const before = { role: user.role, state: user.state, quotas: { ...user.quotas } };
        for (const field of ['role', 'state', 'display_name', 'password']) if (field in input) user[field] = input[field];
        if (input.quotas) Object.assign(user.quotas, input.quotas);
        if ('role' in input) record(req, admin, 'role_changed', user.id, { from: before.role, to: user.role });
        if (input.quotas) record(req, admin, 'quota_changed', user.id, { from: before.quotas, to: { ...user.quotas } });
        if ('state' in input) record(req, admin, 'state_changed', user.id, { from: before.state, to: user.state });
        return json(res, 200, adminView(user));
      }
      if (req.method === 'DELETE') { byId.delete(user.id); res.writeHead(204); return res.end(); }
    }
    if (p === '/api/v1/admin/teams' && req.method === 'GET') {
      // Members by user id, as the service lists them.
      return json(res, 200, { teams: [...teams.values()].map((t) => ({ id: t.id, name: t.name, members: [...t.members].filter((id) => byId.has(id)) })) });
    }
    if (p === '/api/v1/admin/teams' && req.method === 'POST') {
      const input = await readJson(req);
      if (!input.name) return error(res, 400, 'invalid_request', 'name is required');
      const team = { id: randomUUID(), name: input.name, members: new Set() };
      teams.set(team.id, team);
      return json(res, 201, { id: team.id, name: team.name, members: [] });
    }
    const tm = p.match(/^\/api\/v1\/admin\/teams\/([\w-]+)\/members\/([\w-]+)$/);
    if (tm && (req.method === 'PUT' || req.method === 'DELETE')) {
      const team = teams.get(tm[1]);
      if (!team || !byId.has(tm[2])) return error(res, 404, 'not_found', 'no such team or user');
      if (req.method === 'PUT') team.members.add(tm[2]); else team.members.delete(tm[2]);
      res.writeHead(204);
      return res.end();
    }
    if (p === '/api/v1/admin/usage' && req.method === 'GET') {
      const month = url.searchParams.get('month') ?? new Date().toISOString().slice(0, 7);
      // Only the users who translated that month, as the service lists them.
      return json(res, 200, { month, users: [...byId.values()].filter((u) => u.usage.chars_month > 0).map((u) => ({
        user: u.id, login: u.login, characters: u.usage.chars_month })) });
    }
    if (p === '/api/v1/admin/audit' && req.method === 'GET') {
      const since = url.searchParams.get('since');
      // Oldest first, as the service answers.
      const entries = audit.filter((e) => !since || e.at >= new Date(since).toISOString());
      if (url.searchParams.get('format') === 'jsonl' || (req.headers.accept ?? '').includes('application/x-ndjson')) {
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Content-Disposition': 'attachment; filename="tradia-audit.jsonl"' });
        return res.end(entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''));
      }
      return json(res, 200, { entries });
    }
    return error(res, 404, 'not_found', `no route ${req.method} ${p}`);
  };

  return {
    handle,
    config,
    setupToken,
    /**
     * `429 quota_exceeded` with `Retry-After` (seconds to the next UTC midnight) when `n` more
     * characters would pass the caller's daily quota; false when the request may go on.
     */
    refuseOverQuota(res, caller, n, error) {
      const limit = caller?.user.quotas.chars_per_day;
      if (limit === null || limit === undefined || caller.user.usage.chars_today + n <= limit) return false;
      const now = new Date();
      const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
      res.setHeader('Retry-After', String(Math.ceil((midnight - now.getTime()) / 1000)));
      error(res, 429, 'quota_exceeded', `daily quota of ${limit} characters reached; it resets at midnight UTC`);
      return true;
    },
    /** Counts characters a caller translated, as the service's usage does. */
    countChars(caller, n) { if (caller) { caller.user.usage.chars_today += n; caller.user.usage.chars_month += n; } },
    audit,
    users: byId,
  };
}
