// The user menu (name, usage against quotas, links, sign out) and the "my account" view: the
// user's figures and their API keys (for scripts: created here and shown once, then only
// their prefix; revoked after a confirmation).
import * as i18n from './i18n.js';
import { t, num } from './i18n.js';
import * as api from './api.js';
import * as auth from './auth.js';
import { el, dateTime, copyText, selectText } from './dom.js';

const $ = (id) => document.getElementById(id);
let keys = [];
let confirming = null; // id of the key whose revocation awaits a confirmation
let message = null; // { kind: 'ok' | 'error', text: () => string }: follows the language

function showMessage() {
  $('key-messages').replaceChildren(...(message ? [el('p', { class: `message ${message.kind}`, text: message.text() })] : []));
}

function tell(kind, text) { message = text ? { kind, text } : null; showMessage(); }

function fail(e) { tell('error', () => (e instanceof api.ApiError ? e.display() : t('error_generic'))); }

/** One line of usage: "1 234 / 10 000 characters today", or without a limit. */
function usageLine(key, used, limit) {
  const value = limit === null || limit === undefined
    ? t(`${key}_unlimited`, { used: num(used ?? 0) })
    : t(key, { used: num(used ?? 0), limit: num(limit) });
  const item = el('li', { 'data-usage': key }, el('span', { text: value }));
  if (limit) {
    const meter = el('meter', { min: '0', max: String(limit), value: String(Math.min(used ?? 0, limit)), high: String(limit * 0.9), 'aria-label': value });
    item.append(meter);
  }
  return item;
}

/** The usage lines of a user (today, this month, documents in progress). */
export function usageItems(usage = {}, quotas = {}) {
  return [
    usageLine('usage_today', usage.chars_today, quotas.chars_per_day),
    usageLine('usage_month', usage.chars_month, quotas.chars_per_month),
    usageLine('usage_in_progress', usage.jobs_in_progress ?? usage.documents_in_progress,
      quotas.jobs_in_progress ?? quotas.documents_in_progress),
  ];
}

function roleName(role) { return role === 'admin' ? t('role_admin') : t('role_user'); }

function renderUser(me) {
  const menu = $('user-menu');
  menu.hidden = !me;
  if (!me) return;
  $('user-name').textContent = me.display_name || me.login;
  $('user-login').textContent = me.email || me.login;
  $('user-role').textContent = roleName(me.role);
  $('user-usage').replaceChildren(...usageItems(me.usage, me.quotas));
  $('menu-admin').hidden = me.role !== 'admin';
  // Single-user mode has nobody to sign out.
  $('sign-out').hidden = me.auth === 'none' || auth.settings()?.mode === 'none';
  const facts = [[t('login'), me.login], [t('display_name'), me.display_name], [t('email'), me.email],
    [t('role'), roleName(me.role)], [t('teams'), (me.teams ?? []).map((x) => x.name).join(', ') || t('teams_none')]];
  $('account-facts').replaceChildren(...facts.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', { text: k }), el('dd', {}, el('bdi', { text: v }))]));
  $('account-usage').replaceChildren(...usageItems(me.usage, me.quotas));
}

function initMenu() {
  const button = $('user-menu-button');
  const panel = $('user-menu-panel');
  const open = (on) => {
    panel.hidden = !on;
    button.setAttribute('aria-expanded', String(on));
    if (on) auth.refresh();
  };
  button.addEventListener('click', () => open(panel.hidden));
  panel.addEventListener('click', (e) => { if (e.target.closest('a')) open(false); });
  document.addEventListener('click', (e) => { if (!$('user-menu').contains(e.target)) open(false); });
  $('user-menu').addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !panel.hidden) { open(false); button.focus(); }
  });
  $('sign-out').addEventListener('click', () => auth.signOut());
}

// ---- API keys --------------------------------------------------------------------------------

function renderKeys() {
  $('keys-empty').hidden = keys.length > 0;
  $('keys-table').hidden = keys.length === 0;
  $('keys').replaceChildren(...keys.map((k) => {
    const actions = el('div', { class: 'row-actions' });
    if (confirming === k.id) {
      const yes = el('button', { type: 'button', class: 'button danger small', 'data-action': 'confirm-revoke', text: t('key_revoke_confirm') });
      const no = el('button', { type: 'button', class: 'button link small', 'data-action': 'cancel-revoke', text: t('cancel') });
      yes.addEventListener('click', () => revoke(k.id, yes));
      no.addEventListener('click', () => { confirming = null; renderKeys(); $('keys').querySelector(`[data-key-id="${k.id}"] [data-action="revoke"]`)?.focus(); });
      actions.append(el('span', { class: 'confirm-text', text: t('key_revoke_question', { name: k.name }) }), yes, no);
    } else {
      const revokeButton = el('button', { type: 'button', class: 'button link small', 'data-action': 'revoke', text: t('key_revoke'), 'aria-label': t('key_revoke_named', { name: k.name }) });
      revokeButton.addEventListener('click', () => { confirming = k.id; renderKeys(); $('keys').querySelector('[data-action="confirm-revoke"]')?.focus(); });
      actions.append(revokeButton);
    }
    return el('tr', { 'data-key-id': k.id },
      el('td', {}, el('bdi', { text: k.name })),
      el('td', {}, el('code', { dir: 'ltr', text: `${k.prefix}…` })),
      el('td', { text: dateTime(k.created_at) }),
      el('td', { text: k.last_used_at ? dateTime(k.last_used_at) : t('key_never_used') }),
      el('td', {}, actions));
  }));
}

async function loadKeys() {
  try {
    const body = await api.json('/api/v1/me/keys');
    keys = body.keys ?? [];
    renderKeys();
  } catch (e) {
    fail(e);
  }
}

async function createKey(event) {
  event.preventDefault();
  const name = $('key-name').value.trim() || t('key_default_name');
  const button = $('key-create');
  button.disabled = true;
  try {
    const created = await api.sendJson('POST', '/api/v1/me/keys', { name });
    tell('ok', null);
    $('key-name').value = '';
    // The only time the key is seen: the service keeps only a hash of it.
    $('new-key-value').textContent = created.key;
    $('new-key-status').textContent = '';
    $('new-key').hidden = false;
    $('new-key-copy').focus();
    await loadKeys();
  } catch (e) {
    fail(e);
  } finally {
    button.disabled = false;
  }
}

async function revoke(id, button) {
  button.disabled = true;
  try {
    await api.request(`/api/v1/me/keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
  } catch (e) {
    if (e.status !== 404) {
      button.disabled = false;
      fail(e);
      return;
    }
  }
  confirming = null;
  tell('ok', () => t('key_revoked'));
  await loadKeys();
  $('key-name').focus();
}

async function copyKey() {
  const node = $('new-key-value');
  if (await copyText(node.textContent)) $('new-key-status').textContent = t('key_copied');
  else { selectText(node); $('new-key-status').textContent = t('copy_select'); }
}

/** Called when the account view is shown: fresh figures and the key list. */
export function showAccount() {
  // A key created earlier is not shown again once the user left the view.
  $('new-key').hidden = true;
  $('new-key-value').textContent = '';
  confirming = null;
  tell('ok', null);
  auth.refresh();
  loadKeys();
}

export function initAccount() {
  initMenu();
  auth.onUser(renderUser);
  renderUser(auth.user());
  $('key-form').addEventListener('submit', createKey);
  $('new-key-copy').addEventListener('click', copyKey);
  i18n.onChange(() => { renderUser(auth.user()); renderKeys(); showMessage(); });
}
