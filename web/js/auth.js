// Who is using the page. The service may have accounts (GET /api/v1/config says how people sign
// in): then nothing is shown before the user is signed in, and on the very first start nothing
// but the set-up of the first administrator (with the one-time token from the service's log).
// In single-user mode (`TRADIA_AUTH=none`) a banner says that everything is shared. A service
// without accounts at all (an older one) is used as before.
import { forgetInputs } from './keep.js';
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import * as api from './api.js';
import { showErrors, passwordLongEnough, MIN_PASSWORD_CHARS } from './dom.js';

// Query parameters the service puts in links to the page.
const AUTH_ERROR_PARAM = 'auth_error';
// The service prints `/?setup=<token>`; `setup_token` is accepted too.
const SETUP_TOKEN_PARAMS = ['setup', 'setup_token'];

let config = null; // the `auth` part of GET /api/v1/config
let current = null; // the signed-in user: GET /api/v1/me
let pending = null; // resolves the screen being shown with the user it signed in
const listeners = new Set();

const $ = (id) => document.getElementById(id);

// What each screen says, kept as functions so that a change of language says it again.
const said = { signin: null, setup: null };

function say(screen, make) {
  said[screen] = make;
  showErrors($(`${screen}-messages`), make ? [make()] : []);
}

/** The message of an error, in the interface language of the moment. */
function errorMessage(e) {
  return () => (e instanceof api.ApiError ? e.display() : t('error_generic'));
}

/** The signed-in user (the `Me` of the API), or null. */
export function user() { return current; }

/** The sign-in settings of the service, or null when it has no accounts. */
export function settings() { return config; }

/** Whether the signed-in user administers the service. */
export function isAdmin() { return current?.role === 'admin'; }

/** Calls `fn(user)` whenever the signed-in user or their figures change. */
export function onUser(fn) { listeners.add(fn); }

function accept(me, csrf) {
  current = me;
  const token = csrf ?? me?.csrf_token;
  if (token) api.setCsrfToken(token);
  for (const fn of listeners) fn(current);
}

/** Shows one screen (`signin`, `setup`) alone, or the application (null). */
function showScreen(which) {
  $('auth-screen').hidden = !which;
  $('app').hidden = !!which;
  $('signin-form').hidden = which !== 'signin';
  $('setup-form').hidden = which !== 'setup';
  if (which) $('user-menu').hidden = true;
  const first = which === 'signin' ? (config?.local ? $('signin-login') : $('signin-oidc'))
    : which === 'setup' ? ($('setup-token').value ? $('setup-login') : $('setup-token')) : null;
  first?.focus();
}

function waitFor(which) {
  showScreen(which);
  return new Promise((resolve) => { pending = resolve; });
}

function finish(body) {
  showScreen(null);
  const resolve = pending;
  pending = null;
  resolve?.(body);
}

/** The OpenID Connect button's text: "Sign in with <the provider's label>". */
function renderOidc() {
  $('signin-oidc').textContent = t('signin_with', { name: config?.oidc_label || t('signin_sso') });
}

function prepareSignIn() {
  $('signin-local').hidden = !config.local;
  const oidc = $('signin-oidc');
  oidc.hidden = !config.oidc;
  $('signin-or').hidden = !(config.local && config.oidc);
  const back = `${location.pathname}${location.hash}`;
  oidc.href = `/api/v1/auth/oidc/start?return_to=${encodeURIComponent(back)}`;
  // The service sends the browser back with ?auth_error=<code> when an OpenID sign-in failed.
  const params = new URLSearchParams(location.search);
  const code = params.get(AUTH_ERROR_PARAM);
  if (code) {
    say('signin', errorMessage(new api.ApiError(400, code, null)));
    params.delete(AUTH_ERROR_PARAM);
    history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}${location.hash}`);
  }
}

async function submitSignIn(event) {
  event.preventDefault();
  const login = $('signin-login').value.trim();
  const password = $('signin-password').value;
  if (!login || !password) { say('signin', () => t('signin_missing')); return; }
  const button = $('signin-submit');
  button.disabled = true;
  try {
    const body = await api.sendJson('POST', '/api/v1/auth/login', { login, password });
    say('signin', null);
    $('signin-password').value = '';
    finish(body);
  } catch (e) {
    say('signin', errorMessage(e));
    $('signin-password').select();
  } finally {
    button.disabled = false;
  }
}

async function submitSetUp(event) {
  event.preventDefault();
  const token = $('setup-token').value.trim();
  const login = $('setup-login').value.trim();
  const password = $('setup-password').value;
  const displayName = $('setup-name').value.trim();
  if (!token || !login || !password) { say('setup', () => t('setup_missing')); return; }
  if (!passwordLongEnough(password)) { say('setup', () => t('password_too_short', { min: MIN_PASSWORD_CHARS })); return; }
  if (password !== $('setup-confirm').value) { say('setup', () => t('setup_password_mismatch')); return; }
  const button = $('setup-submit');
  button.disabled = true;
  try {
    const request = { token, login, password };
    if (displayName) request.display_name = displayName;
    const body = await api.sendJson('POST', '/api/v1/auth/setup', request);
    say('setup', null);
    for (const id of ['setup-password', 'setup-confirm', 'setup-token']) $(id).value = '';
    api.reloadConfig();
    // The token's link has done its work: keep it out of the address bar and the history.
    const params = new URLSearchParams(location.search);
    for (const name of SETUP_TOKEN_PARAMS) params.delete(name);
    history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}${location.hash}`);
    finish(body);
  } catch (e) {
    if (e.code === 'setup_done') {
      // Someone else created the administrator meanwhile: sign in like everybody.
      prepareSignIn();
      showScreen('signin');
      say('signin', () => t('error_setup_done'));
      return;
    }
    say('setup', errorMessage(e));
  } finally {
    button.disabled = false;
  }
}

/** Shows the sign-in screen again after the session ended (expired, or signed out elsewhere). */
async function signInAgain() {
  if (pending || !config) return;
  const before = current?.id;
  prepareSignIn();
  say('signin', () => t('error_unauthenticated'));
  const body = await waitFor('signin');
  // Another person took the seat: nothing of the previous user's page may stay.
  if (body.user?.id !== before) { location.reload(); return; }
  accept(body.user, body.csrf_token);
}

/**
 * Resolves with the signed-in user once there is one (showing the set-up or sign-in screen
 * first when needed), or with null for a service without accounts.
 */
export async function signedIn() {
  config = (await api.config()).auth;
  $('signin-form').addEventListener('submit', submitSignIn);
  $('setup-form').addEventListener('submit', submitSetUp);
  renderOidc();
  i18n.onChange(() => {
    renderOidc();
    for (const screen of Object.keys(said)) say(screen, said[screen]);
  });
  if (!config) { showScreen(null); return null; }
  $('single-user-banner').hidden = !(config.single_user || config.mode === 'none');
  let body = null;
  if (config.setup_required) {
    const params = new URLSearchParams(location.search);
    $('setup-token').value = SETUP_TOKEN_PARAMS.map((name) => params.get(name)).find(Boolean) ?? '';
    // Without TRADIA_PUBLIC_URL the service cannot refuse requests for other host names.
    $('setup-public-url').hidden = !config.host_check_off;
    body = await waitFor('setup');
  } else {
    try {
      const me = await api.json('/api/v1/me');
      body = { user: me, csrf_token: me.csrf_token };
    } catch (e) {
      if (e.status !== 401) throw e;
      prepareSignIn();
      body = await waitFor('signin');
    }
  }
  showScreen(null);
  accept(body.user, body.csrf_token);
  api.whenUnauthenticated(signInAgain);
  return current;
}

/** Reads the user again (usage figures change as they translate). */
export async function refresh() {
  if (!current) return;
  try {
    const me = await api.json('/api/v1/me');
    accept(me, me.csrf_token);
  } catch { /* the next call shows why */ }
}

/** Ends the session, at the OpenID provider too when it has a logout page. */
export async function signOut() {
  forgetInputs();
  let body = null;
  try { body = await api.json('/api/v1/auth/logout', { method: 'POST' }); } catch { /* gone already */ }
  api.setCsrfToken(null);
  if (body?.logout_url) location.assign(body.logout_url);
  else location.reload();
}
