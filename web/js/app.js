// Entry point: interface language, then who the user is (sign-in or first start when the
// service has accounts), then tabs, backend status, shared pickers, each tab's module, and the
// account and administration views.
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import * as api from './api.js';
import * as auth from './auth.js';
import { initTabs } from './tabs.js';
import { initAccount, showAccount } from './account.js';
import { initAdmin, showAdmin } from './admin.js';
import { initMemory, showMemory } from './memory.js';
import { initDocuments } from './documents.js';
import { initText } from './text.js';
import { initAssistants } from './assist.js';

const COMMON = ['fr', 'en', 'ar'];
const PREFS = 'tradia.prefs';

function prefs() {
  try { return JSON.parse(localStorage.getItem(PREFS)) ?? {}; } catch { return {}; }
}

function savePref(key, value) {
  const p = prefs();
  p[key] = value;
  try { localStorage.setItem(PREFS, JSON.stringify(p)); } catch { /* private mode */ }
}

/** Fills every language picker from /api/v1/languages, keeping the user's last choices. */
async function fillLanguagePickers() {
  const selects = document.querySelectorAll('[data-lang-select]');
  let list;
  try {
    list = await api.languages();
  } catch {
    list = COMMON.map((code) => ({ code, name: code, rtl: code === 'ar' }));
  }
  const render = () => {
    const named = list.map((l) => ({ ...l, label: i18n.languageName(l.code, l.name) }));
    const common = COMMON.map((c) => named.find((l) => l.code === c)).filter(Boolean);
    const others = named.filter((l) => !COMMON.includes(l.code))
      .sort((a, b) => a.label.localeCompare(b.label, i18n.lang()));
    for (const select of selects) {
      const previous = select.value || prefs()[select.id];
      select.replaceChildren();
      if (select.dataset.langSelect === 'source') {
        select.append(new Option(t('detect_language'), 'auto'));
      }
      for (const [label, group] of [[t('common_languages'), common], [t('all_languages'), others]]) {
        if (!group.length) continue;
        const og = document.createElement('optgroup');
        og.label = label;
        for (const l of group) {
          const option = new Option(l.label, l.code);
          if (l.name && l.name !== l.label) option.title = l.name;
          og.append(option);
        }
        select.append(og);
      }
      const fallback = select.dataset.langSelect === 'source' ? 'auto' : (i18n.lang() === 'fr' ? 'en' : 'fr');
      select.value = previous && [...select.options].some((o) => o.value === previous) ? previous : fallback;
    }
  };
  render();
  i18n.onChange(render);
  for (const select of selects) {
    select.addEventListener('change', () => savePref(select.id, select.value));
  }
}

/** Fills every model picker from /api/v1/models, the server's default first. */
async function fillModelPickers() {
  const selects = document.querySelectorAll('[data-model-select]');
  let list = [];
  try { list = await api.models(); } catch { /* offline backend: the server picks */ }
  const render = () => {
    for (const select of selects) {
      const previous = select.value || prefs()[select.id];
      select.replaceChildren();
      list.forEach((m, i) => {
        const label = i === 0 ? t('model_default', { name: m.name }) : m.name;
        select.append(new Option(label, m.name));
      });
      if (!list.length) select.append(new Option(t('model_server_default'), ''));
      if (previous && [...select.options].some((o) => o.value === previous)) select.value = previous;
    }
  };
  render();
  i18n.onChange(render);
  for (const select of selects) {
    select.addEventListener('change', () => savePref(select.id, select.value));
  }
  return list;
}

/**
 * Shows the LLM backend state from /healthz (public: shown on the sign-in screen too),
 * refreshed every 30 s. `models` is filled once the user may list them; returns a function
 * that checks again.
 */
function initStatus(models, demo) {
  const box = document.getElementById('status');
  const text = document.getElementById('status-text');
  const model = document.getElementById('status-model');
  let last = null;
  const render = () => {
    if (!last) return;
    box.dataset.state = last.state;
    text.textContent = last.state === 'healthy' ? t('status_available')
      : last.state === 'degraded' ? t('status_degraded') : t('status_unreachable');
    // A stable reason code from /healthz, in the interface language when the catalogue has it.
    box.title = last.reason && i18n.has(`health_${last.reason}`) ? t(`health_${last.reason}`) : last.reason ?? '';
    // The server's own words (often English, naming an address) only in the tooltip: the
    // header speaks the interface language. A demonstration names no model: there is none.
    model.textContent = demo ? t('status_demo')
      : last.state === 'healthy' && last.model ? t('status_model', { name: last.model }) : '';
  };
  const check = async () => {
    try {
      const response = await fetch('/healthz', { headers: { Accept: 'application/json' } });
      const body = await response.json().catch(() => ({}));
      const reason = body.reason ?? body.llm?.reason ?? body.checks?.llm?.reason ?? body.llm?.error ?? null;
      const state = body.status === 'healthy' || body.status === 'ok' ? 'healthy'
        : body.status ? 'degraded' : 'unreachable';
      const modelName = body.model ?? body.llm?.model ?? models[0]?.name ?? null;
      last = { state, reason, model: modelName };
    } catch {
      last = { state: 'unreachable', reason: null, model: null };
    }
    render();
  };
  i18n.onChange(render);
  check();
  setInterval(check, 30000);
  return check;
}

const VIEWS = { account: showAccount, memory: showMemory, admin: showAdmin };

/**
 * Shows the view the URL fragment names (#account, #memory, #admin for administrators), else
 * the tabs.
 * The views are pages of their own: the tabs are hidden while one is shown.
 */
function initViews() {
  let shown = null;
  const apply = () => {
    let name = location.hash.slice(1);
    if (!(name in VIEWS) || !auth.user() || (name === 'admin' && !auth.isAdmin())) name = null;
    // Fresh figures for the user fire this again: a view already shown is not reloaded.
    if (name === shown) return;
    shown = name;
    document.getElementById('tabs-view').hidden = !!name;
    for (const view of Object.keys(VIEWS)) document.getElementById(`view-${view}`).hidden = view !== name;
    if (name) {
      VIEWS[name]();
      document.getElementById(`view-${name}`).focus();
    }
  };
  window.addEventListener('hashchange', apply);
  auth.onUser(apply);
  apply();
}

async function main() {
  await i18n.setLanguage(i18n.initialLanguage(), false);
  const uiLang = document.getElementById('ui-lang');
  uiLang.value = i18n.lang();
  uiLang.addEventListener('change', () => i18n.setLanguage(uiLang.value, true));
  const models = [];
  const config = await api.config();
  document.getElementById('demo-banner').hidden = !config.demo;
  const checkStatus = initStatus(models, config.demo);
  await auth.signedIn();
  initTabs(document.getElementById('tablist'), Object.keys(VIEWS));
  const [, list] = await Promise.all([fillLanguagePickers(), fillModelPickers()]);
  models.push(...list);
  checkStatus();
  initAccount();
  initAdmin();
  initMemory();
  initViews();
  await initDocuments();
  initText();
  initAssistants();
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  console.error(e);
  const p = document.createElement('p');
  p.className = 'notice';
  p.textContent = `Tradia: ${e.message}`;
  document.getElementById('main').prepend(p);
});
