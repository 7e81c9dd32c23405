// The administration view, for administrators only (the service answers `403 forbidden` to
// others, and the page does not offer it to them): users (create, role, disable, quotas),
// teams and their members, usage per user and month, and the audit log with a "since" filter
// and its JSON-lines export. Administrators see figures and metadata, never documents.
import * as i18n from './i18n.js';
import { t, num } from './i18n.js';
import * as api from './api.js';
import * as auth from './auth.js';
import { el, dateTime, copyText, selectText, passwordLongEnough, MIN_PASSWORD_CHARS } from './dom.js';

const $ = (id) => document.getElementById(id);
const QUOTAS = ['chars_per_day', 'chars_per_month', 'jobs_in_progress', 'upload_bytes'];
const AUDIT_SHOWN = 200;
let users = [];
let teams = [];
let usage = [];
let entries = [];
let editing = null; // { id, kind: 'quotas' | 'password' }: the editor open under a user's row

/** The list in an answer: `body[name]` for the first name it has, or the body when a list. */
function listOf(body, ...names) {
  if (Array.isArray(body)) return body;
  for (const name of names) if (Array.isArray(body?.[name])) return body[name];
  return [];
}

// The message above the administration, kept as a function so that it follows the language.
let keyOwner = null; // the user whose new key is shown

function renderNewKey() {
  $('admin-new-key-for').textContent = keyOwner ? t('user_key_created', { name: nameOf(keyOwner) }) : '';
}

let message = null; // { kind: 'ok' | 'error', text: () => string }

function showMessage() {
  const box = $('admin-messages');
  if (!message) { box.replaceChildren(); return; }
  box.replaceChildren(el('p', { class: `message ${message.kind}`, role: message.kind === 'ok' ? 'status' : null, text: message.text() }));
}

/** Shows a problem (a function giving its text). */
function warn(text) { message = { kind: 'error', text }; showMessage(); }

function fail(e) { warn(() => (e instanceof api.ApiError ? e.display() : t('error_generic'))); }

/** Says that a change was made; the audit log, which records it, is read again. */
function said(text) {
  message = { kind: 'ok', text };
  showMessage();
  loadAudit();
}


function nameOf(u) { return u.display_name || u.login; }

/** The name of a user the service names by id only (audit entries, usage rows). */
function named(value) {
  if (typeof value !== 'string') return value;
  const u = users.find((x) => x.id === value);
  return u ? u.login : value;
}

// ---- Users -----------------------------------------------------------------------------------

function quotaEditor(u) {
  const form = el('form', { class: 'quota-form', 'data-quotas-for': u.id, novalidate: true });
  for (const q of QUOTAS) {
    const id = `quota-${u.id}-${q}`;
    const value = quotaOf(u, q);
    form.append(el('div', { class: 'field narrow' },
      el('label', { for: id, text: t(`quota_${q}`) }),
      el('input', { type: 'number', id, min: '0', step: '1', name: q, value: value ?? '', placeholder: t('quota_unlimited') })));
  }
  const save = el('button', { type: 'submit', class: 'button primary small', text: t('save') });
  const cancel = el('button', { type: 'button', class: 'button link small', text: t('cancel') });
  cancel.addEventListener('click', () => { editing = null; renderUsers(); });
  form.append(el('div', { class: 'actions' }, save, cancel), el('p', { class: 'hint', text: t('quota_hint') }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const quotas = {};
    for (const q of QUOTAS) {
      const raw = form.elements[q].value.trim();
      quotas[q] = raw === '' ? null : Math.max(0, Math.floor(Number(raw)));
    }
    // The service's administration API (for now) names this limit as its store does.
    quotas.documents_in_progress = quotas.jobs_in_progress;
    patchUser(u, { quotas }, () => t('quotas_saved', { name: nameOf(u) }));
  });
  return el('tr', { class: 'editor-row' }, el('td', { colspan: '5' }, form));
}

/** A user's quota `q`, or null for the service's default. */
function quotaOf(u, q) {
  return u.quotas?.[q] ?? (q === 'jobs_in_progress' ? u.quotas?.documents_in_progress : null) ?? null;
}

function quotaSummary(u) {
  const set = QUOTAS.filter((q) => quotaOf(u, q) !== null);
  return set.length ? set.map((q) => `${t(`quota_${q}`)} : ${num(quotaOf(u, q))}`).join(' · ') : t('quotas_default');
}

function userRow(u) {
  const me = auth.user();
  const role = el('select', { 'data-action': 'role', 'aria-label': t('role_of', { name: nameOf(u) }) },
    new Option(t('role_user'), 'user'), new Option(t('role_admin'), 'admin'));
  role.value = u.role;
  // Nobody removes their own administration by mistake (another administrator can).
  role.disabled = u.id === me?.id;
  role.addEventListener('change', () => patchUser(u, { role: role.value }, () => t('role_saved', { name: nameOf(u), role: role.value === 'admin' ? t('role_admin') : t('role_user') })));
  const active = (u.state ?? 'active') === 'active';
  const toggle = el('button', { type: 'button', class: 'button link small', 'data-action': 'state',
    text: active ? t('user_disable') : t('user_enable'), 'aria-label': t(active ? 'user_disable_named' : 'user_enable_named', { name: nameOf(u) }) });
  toggle.disabled = u.id === me?.id;
  toggle.addEventListener('click', () => patchUser(u, { state: active ? 'disabled' : 'active' },
    () => t(active ? 'user_disabled_done' : 'user_enabled_done', { name: nameOf(u) })));
  const editorButton = (kind, text, label) => {
    const open = editing?.id === u.id && editing.kind === kind;
    const button = el('button', { type: 'button', class: 'button link small', 'data-action': kind, text,
      'aria-label': label, 'aria-expanded': String(open) });
    button.addEventListener('click', () => {
      editing = open ? null : { id: u.id, kind };
      renderUsers();
      $('users').querySelector('.editor-row input')?.focus();
    });
    return button;
  };
  const quotas = editorButton('quotas', t('quotas_edit'), t('quotas_edit_named', { name: nameOf(u) }));
  const password = editorButton('password', t('password_edit'), t('password_edit_named', { name: nameOf(u) }));
  const key = el('button', { type: 'button', class: 'button link small', 'data-action': 'key', text: t('user_key_create'),
    'aria-label': t('user_key_create_named', { name: nameOf(u) }) });
  key.addEventListener('click', () => createKeyFor(u, key));
  const seen = 'last_sign_in_at' in u
    ? (u.last_sign_in_at ? t('last_sign_in', { date: dateTime(u.last_sign_in_at) }) : t('never_signed_in')) : null;
  const who = el('td', {}, el('bdi', { class: 'user-display', text: nameOf(u) }), el('br'),
    el('bdi', { class: 'hint', text: u.email ? `${u.login} · ${u.email}` : u.login }),
    seen ? el('br') : null, seen ? el('span', { class: 'hint', text: seen }) : null);
  const row = el('tr', { 'data-user-id': u.id, 'data-login': u.login, 'data-state': u.state ?? 'active' }, who,
    el('td', {}, role),
    el('td', {}, el('span', { class: `badge ${active ? 'status-done' : 'status-cancelled'}`, text: active ? t('state_active') : t('state_disabled') })),
    el('td', { class: 'hint' }, u.usage ? el('span', { text: t('usage_month_short', { used: num(u.usage.chars_month ?? 0) }) }) : null,
      u.usage ? el('br') : null, el('span', { text: quotaSummary(u) })),
    el('td', {}, el('div', { class: 'row-actions' }, toggle, quotas, password, key)));
  if (editing?.id !== u.id) return [row];
  return [row, editing.kind === 'quotas' ? quotaEditor(u) : passwordEditor(u)];
}

function passwordEditor(u) {
  const id = `password-${u.id}`;
  const input = el('input', { type: 'password', id, autocomplete: 'new-password', minlength: String(MIN_PASSWORD_CHARS) });
  const save = el('button', { type: 'submit', class: 'button primary small', text: t('save') });
  const cancel = el('button', { type: 'button', class: 'button link small', text: t('cancel') });
  cancel.addEventListener('click', () => { editing = null; renderUsers(); });
  const form = el('form', { class: 'quota-form', 'data-password-for': u.id, novalidate: true },
    el('div', { class: 'field' }, el('label', { for: id, text: t('password_new_for', { name: nameOf(u) }) }), input),
    el('div', { class: 'actions' }, save, cancel), el('p', { class: 'hint', text: t('password_rule') }));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!passwordLongEnough(input.value)) {
      warn(() => t('password_too_short', { min: MIN_PASSWORD_CHARS }));
      return;
    }
    patchUser(u, { password: input.value }, () => t('password_saved', { name: nameOf(u) }));
  });
  return el('tr', { class: 'editor-row' }, el('td', { colspan: '5' }, form));
}

/** Creates an API key for a user (for a script run on their behalf) and shows it once. */
async function createKeyFor(u, button) {
  button.disabled = true;
  try {
    const created = await api.sendJson('POST', `/api/v1/admin/users/${encodeURIComponent(u.id)}/keys`, { name: t('key_from_admin') });
    keyOwner = u;
    renderNewKey();
    $('admin-new-key-value').textContent = created.key;
    $('admin-new-key-status').textContent = '';
    $('admin-new-key').hidden = false;
    said(() => t('user_key_created', { name: nameOf(u) }));
    $('admin-new-key-copy').focus();
  } catch (e) { fail(e); } finally { button.disabled = false; }
}

async function copyAdminKey() {
  const node = $('admin-new-key-value');
  if (await copyText(node.textContent)) $('admin-new-key-status').textContent = t('key_copied');
  else { selectText(node); $('admin-new-key-status').textContent = t('copy_select'); }
}

function renderUsers() {
  $('users').replaceChildren(...users.flatMap(userRow));
  renderTeams();
}

async function loadUsers() {
  const body = await api.json('/api/v1/admin/users');
  users = listOf(body, 'users');
  renderUsers();
}

async function patchUser(u, change, done) {
  try {
    await api.sendJson('PATCH', `/api/v1/admin/users/${encodeURIComponent(u.id)}`, change);
    if ('quotas' in change || 'password' in change) editing = null;
    await loadUsers();
    said(done);
    $('users').querySelector(`[data-user-id="${u.id}"] [data-action]`)?.closest('tr')?.querySelector('select, button')?.focus();
  } catch (e) {
    fail(e);
    await loadUsers().catch(() => {});
  }
}

async function createUser(event) {
  event.preventDefault();
  const login = $('new-user-login').value.trim();
  if (!login) { warn(() => t('user_login_missing')); return; }
  const password = $('new-user-password').value;
  if (password && !passwordLongEnough(password)) {
    warn(() => t('password_too_short', { min: MIN_PASSWORD_CHARS }));
    return;
  }
  const input = { login, role: $('new-user-role').value };
  for (const [id, key] of [['new-user-name', 'display_name'], ['new-user-email', 'email'], ['new-user-password', 'password']]) {
    const value = id === 'new-user-password' ? $(id).value : $(id).value.trim();
    if (value) input[key] = value;
  }
  try {
    await api.sendJson('POST', '/api/v1/admin/users', input);
    for (const id of ['new-user-login', 'new-user-name', 'new-user-email', 'new-user-password']) $(id).value = '';
    $('new-user-role').value = 'user';
    await loadUsers();
    said(() => t('user_created', { name: input.display_name || login }));
    $('new-user-login').focus();
  } catch (e) { fail(e); }
}

// ---- Teams -----------------------------------------------------------------------------------

/** A team member, given as a user id (as the service lists them) or as a user. */
function member_(m) {
  if (typeof m !== 'string') return m;
  return users.find((u) => u.id === m) ?? { id: m, login: m };
}

function teamItem(team) {
  const members = (team.members ?? []).map(member_);
  const list = el('ul', { class: 'members' }, ...members.map((m) => {
    const remove = el('button', { type: 'button', class: 'button link small', text: t('remove'), 'aria-label': t('member_remove', { name: nameOf(m), team: team.name }) });
    remove.addEventListener('click', () => member('DELETE', team, m, () => t('member_removed', { name: nameOf(m), team: team.name })));
    return el('li', { 'data-member': m.login ?? m.id }, el('bdi', { text: nameOf(m) }), ' ', remove);
  }));
  const others = users.filter((u) => !members.some((m) => m.id === u.id));
  const pickId = `team-add-${team.id}`;
  const pick = el('select', { id: pickId }, ...others.map((u) => new Option(nameOf(u), u.id)));
  const add = el('button', { type: 'submit', class: 'button secondary small', text: t('member_add') });
  const form = el('form', { class: 'inline-form', novalidate: true },
    el('div', { class: 'field narrow' }, el('label', { for: pickId, text: t('member_add_to', { team: team.name }) }), pick), add);
  form.hidden = others.length === 0;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const u = users.find((x) => x.id === pick.value);
    if (u) member('PUT', team, u, () => t('member_added', { name: nameOf(u), team: team.name }));
  });
  return el('li', { class: 'team', 'data-team': team.name },
    el('h3', {}, el('bdi', { text: team.name }), ' ', el('span', { class: 'hint', text: t('team_members_count', { count: num(members.length) }) })),
    members.length ? list : el('p', { class: 'hint', text: t('team_no_members') }), form);
}

function renderTeams() {
  $('teams-empty').hidden = teams.length > 0;
  $('teams').replaceChildren(...teams.map(teamItem));
}

async function loadTeams() {
  const body = await api.json('/api/v1/admin/teams');
  teams = listOf(body, 'teams');
  renderTeams();
}

async function member(method, team, u, done) {
  try {
    await api.request(`/api/v1/admin/teams/${encodeURIComponent(team.id)}/members/${encodeURIComponent(u.id)}`, { method });
    await loadTeams();
    said(done);
  } catch (e) { fail(e); }
}

async function createTeam(event) {
  event.preventDefault();
  const name = $('new-team-name').value.trim();
  if (!name) { warn(() => t('team_name_missing')); return; }
  try {
    await api.sendJson('POST', '/api/v1/admin/teams', { name });
    $('new-team-name').value = '';
    await loadTeams();
    said(() => t('team_created', { name }));
  } catch (e) { fail(e); }
}

// ---- Usage and audit -------------------------------------------------------------------------

function renderUsage() {
  $('usage-empty').hidden = usage.length > 0;
  $('usage').replaceChildren(...usage.map((row) => el('tr', { 'data-login': row.login ?? '' },
    el('td', {}, el('bdi', { text: row.display_name || row.login || named(row.user ?? row.user_id) })),
    el('td', { class: 'num', text: num(row.characters ?? row.chars ?? row.chars_month ?? 0) }))));
}

async function loadUsage(event) {
  event?.preventDefault();
  const input = $('usage-month');
  if (!input.value) input.value = new Date().toISOString().slice(0, 7);
  try {
    const body = await api.json(`/api/v1/admin/usage?month=${encodeURIComponent(input.value)}`);
    usage = listOf(body, 'users', 'usage', 'rows');
    renderUsage();
  } catch (e) { fail(e); }
}

function auditText(value) {
  if (value === null || value === undefined || value === '') return '—';
  return typeof value === 'object' ? value.login ?? value.id ?? JSON.stringify(value) : String(value);
}

/** An audit entry's detail in a few words: changes as "before → after", ids as logins. */
function detailText(detail) {
  if (detail === null || detail === undefined || detail === '') return null;
  if (typeof detail !== 'object') return String(detail);
  const value = (v) => (v === null || v === undefined ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(named(v)));
  if ('from' in detail && 'to' in detail) {
    const { from, to } = detail;
    if (from && to && typeof from === 'object' && typeof to === 'object') {
      return Object.keys({ ...from, ...to }).filter((k) => JSON.stringify(from[k]) !== JSON.stringify(to[k]))
        .map((k) => `${k}: ${value(from[k])} → ${value(to[k])}`).join(' · ') || null;
    }
    return `${value(from)} → ${value(to)}`;
  }
  return Object.entries(detail).map(([k, v]) => `${k}: ${value(v)}`).join(' · ') || null;
}

function renderAudit() {
  $('audit-empty').hidden = entries.length > 0;
  $('audit').replaceChildren(...entries.map((e) => {
    const action = e.action ?? e.event ?? e.kind ?? '';
    return el('tr', { 'data-action-name': action },
      el('td', { text: dateTime(e.at ?? e.time ?? e.timestamp) }),
      el('td', {}, el('bdi', { text: auditText(named(e.actor ?? e.user ?? e.user_login)) })),
      el('td', { text: i18n.has(`audit_${action}`) ? t(`audit_${action}`) : action }),
      el('td', {}, el('bdi', { dir: 'ltr', text: [auditText(named(e.object ?? e.object_id ?? e.target)), detailText(e.detail)].filter((x) => x && x !== '—').join(' · ') || '—' })),
      el('td', {}, el('bdi', { dir: 'ltr', text: auditText(e.remote_addr ?? e.address ?? e.ip ?? e.from) })));
  }));
}

function auditQuery(extra = {}) {
  const params = new URLSearchParams();
  const since = $('audit-since').value;
  if (since) params.set('since', new Date(since).toISOString());
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

async function loadAudit(event) {
  event?.preventDefault();
  $('audit-export').href = `/api/v1/admin/audit?${auditQuery({ format: 'jsonl' })}`;
  try {
    const body = await api.json(`/api/v1/admin/audit?${auditQuery()}`);
    // Newest first, whatever order the service keeps; the export has them all.
    entries = listOf(body, 'entries').slice()
      .sort((a, b) => String(b.at ?? '').localeCompare(String(a.at ?? ''))).slice(0, AUDIT_SHOWN);
    renderAudit();
  } catch (e) { fail(e); }
}

/** Called when the administration view is shown: everything read afresh. */
export async function showAdmin() {
  message = null;
  showMessage();
  // A key created for someone is shown once: not again when the view comes back.
  $('admin-new-key').hidden = true;
  $('admin-new-key-value').textContent = '';
  try {
    await Promise.all([loadUsers(), loadTeams()]);
  } catch (e) { fail(e); }
  await Promise.all([loadUsage(), loadAudit()]);
}

export function initAdmin() {
  $('user-form').addEventListener('submit', createUser);
  $('team-form').addEventListener('submit', createTeam);
  $('usage-form').addEventListener('submit', loadUsage);
  $('audit-form').addEventListener('submit', loadAudit);
  $('admin-new-key-copy').addEventListener('click', copyAdminKey);
  i18n.onChange(() => { renderUsers(); renderUsage(); renderAudit(); showMessage(); renderNewKey(); });
}
