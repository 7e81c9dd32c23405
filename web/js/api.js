// The HTTP API under /api/v1 (same origin only), and the error type the pages show.
// Signed-in requests ride on the service's session cookie; every unsafe request (POST, PUT,
// PATCH, DELETE, uploads included) also carries the session's X-CSRF-Token, and an answer
// `401 unauthenticated` (the session expired, or was ended elsewhere) brings the sign-in back.
import { t, has, num } from './i18n.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let csrfToken = null;
let onUnauthenticated = null;

/** Keeps the CSRF token of the session (from sign-in or GET /api/v1/me). */
export function setCsrfToken(token) { csrfToken = token || null; }

/** The header that proves a request comes from this page, for an unsafe `method`. */
export function csrfHeaders(method = 'GET') {
  return csrfToken && UNSAFE.has(method.toUpperCase()) ? { 'X-CSRF-Token': csrfToken } : {};
}

/** Calls `fn` when the service answers `401 unauthenticated` to a request of the page. */
export function whenUnauthenticated(fn) { onUnauthenticated = fn; }

/** Whether an error means "sign in again"; tells the sign-in screen when it does. */
export function noteAuthFailure(error) {
  if (error?.status === 401 && error.code === 'unauthenticated') {
    onUnauthenticated?.();
    return true;
  }
  return false;
}

/** A wait in seconds, as "45 s", "3 min", "5 h" or "12 days" in the interface language. */
export function waitText(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 120) return t('wait_seconds', { n: num(s) });
  if (s < 2 * 3600) return t('wait_minutes', { n: num(Math.ceil(s / 60)) });
  if (s < 48 * 3600) return t('wait_hours', { n: num(Math.ceil(s / 3600)) });
  return t('wait_days', { n: num(Math.ceil(s / 86400)) });
}

/** An error from the API, with the server's stable code when it sent one. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    /** Seconds to wait before trying again (the `Retry-After` of a 429), or null. */
    this.retryAfter = retryAfter;
  }

  /**
   * The message to show: the catalogue's text for the code (with the wait, when the server said
   * how long), else the server's message.
   */
  display() {
    if (this.code && this.retryAfter !== null && has(`retry_${this.code}`)) {
      return t(`retry_${this.code}`, { wait: waitText(this.retryAfter) });
    }
    if (this.code && has(`error_${this.code}`)) return t(`error_${this.code}`);
    if (this.status === 413) return t('error_upload_too_large');
    if (this.status === 0) return t('error_network');
    return this.message ? t('error_with_message', { message: this.message }) : t('error_generic');
  }
}

/** The seconds of a `Retry-After` header (a number of seconds or an HTTP date), or null. */
export function retryAfter(value) {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, (at - Date.now()) / 1000) : null;
}

async function errorFrom(response) {
  let code = null;
  let message = null;
  try {
    const body = await response.json();
    code = body?.error?.code ?? null;
    message = body?.error?.message ?? null;
  } catch { /* not JSON */ }
  return new ApiError(response.status, code, message, retryAfter(response.headers.get('Retry-After')));
}

/**
 * fetch() that adds the CSRF header to unsafe requests and turns network failures and non-2xx
 * answers into ApiError.
 */
export async function request(path, options = {}) {
  const headers = new Headers(options.headers ?? {});
  for (const [name, value] of Object.entries(csrfHeaders(options.method))) headers.set(name, value);
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', e.message);
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    noteAuthFailure(error);
    throw error;
  }
  return response;
}

/** GET or POST returning JSON (null for 204). */
export async function json(path, options = {}) {
  const response = await request(path, options);
  if (response.status === 204) return null;
  return response.json();
}

/** POSTs a JSON body. */
export function postJson(path, body, options = {}) {
  return request(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream, application/json' },
    body: JSON.stringify(body),
    ...options,
  });
}

/** Sends a JSON body with `method` and returns the JSON answer (null for 204). */
export function sendJson(method, path, body) {
  return json(path, {
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/**
 * Reads a text/event-stream response body, yielding {event, data} with data parsed as JSON when
 * it is JSON. (EventSource cannot POST, so streaming endpoints are read with fetch.)
 */
export async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    buffer = buffer.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const parsed = parseBlock(block);
      if (parsed) yield parsed;
    }
  }
  const last = parseBlock(buffer);
  if (last) yield last;
}

function parseBlock(block) {
  let event = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (!data.length) return null;
  const text = data.join('\n');
  try { return { event, data: JSON.parse(text) }; } catch { return { event, data: text }; }
}

/** Raises the error an `error` event carries. */
export function eventError(data) {
  const err = data?.error ?? data;
  return new ApiError(500, err?.code ?? null, err?.message ?? (typeof err === 'string' ? err : null));
}

let languagesPromise = null;
/** Languages the server offers: [{code, name, rtl}]. */
export function languages() {
  languagesPromise ??= json('/api/v1/languages').then((body) => {
    const list = Array.isArray(body) ? body : body.languages ?? [];
    return list.map((l) => ({ code: l.code, name: l.name ?? l.native ?? l.code, rtl: !!(l.rtl ?? l.right_to_left) }));
  }).catch((e) => { languagesPromise = null; throw e; });
  return languagesPromise;
}

let modelsPromise = null;
/** Models the server offers, default first: [{name, default}]. */
export function models() {
  modelsPromise ??= json('/api/v1/models').then((body) => {
    const list = (Array.isArray(body) ? body : body.models ?? [])
      .map((m) => (typeof m === 'string' ? { name: m } : { ...m, name: m.name ?? m.id ?? m.model }));
    const byDefault = body.default ?? list.find((m) => m.default)?.name;
    // The default model first, whatever order the backends listed them in.
    return [...list.filter((m) => m.name === byDefault), ...list.filter((m) => m.name !== byDefault)];
  }).catch((e) => { modelsPromise = null; throw e; });
  return modelsPromise;
}

let configPromise = null;
/** Forgets the configuration read before (it says whether the set-up is still required). */
export function reloadConfig() { configPromise = null; }

/**
 * Upload limits, formats and sign-in methods, from GET /api/v1/config when the server has it; otherwise the
 * documented defaults (50 MB per request, 20 files) and no format list (the server decides).
 */
export function config() {
  configPromise ??= json('/api/v1/config').catch(() => ({})).then((c) => ({
    maxUploadBytes: c.max_upload_bytes ?? (c.max_upload_mb ?? 50) * 1024 * 1024,
    maxFiles: c.max_files ?? 20,
    extensions: normaliseExtensions(c.extensions ?? c.formats),
    // How people sign in (null: a service without accounts, everything is shared).
    auth: c.auth ?? null,
    // A demonstration (pseudo engine or the LLM simulator): the page says so.
    demo: !!c.demo,
    engine: c.engine ?? null,
    features: new Set(c.features ?? []),
  }));
  return configPromise;
}

function normaliseExtensions(list) {
  if (!Array.isArray(list) || !list.length) return null;
  const out = new Set();
  for (const item of list) {
    const exts = typeof item === 'string' ? [item] : item.extensions ?? [];
    for (const e of exts) out.add(String(e).toLowerCase().replace(/^\./, ''));
  }
  return out.size ? out : null;
}

/** Whether a language code is written right to left, per the server's table. */
export async function isRtlLanguage(code) {
  if (!code || code === 'auto') return false;
  try {
    const list = await languages();
    const primary = code.split('-')[0];
    const hit = list.find((l) => l.code === code) ?? list.find((l) => l.code === primary);
    return !!hit?.rtl;
  } catch {
    return false;
  }
}
