// Interface strings: one catalogue per language (web/i18n/{fr,en,ar}.json), loaded on demand.
// Elements name their string with data-i18n="key" (text) or
// data-i18n-attr="attr:key;attr2:key2" (attributes); scripts call t(key, {param}).

export const LANGUAGES = ['fr', 'en', 'ar'];
const RTL = new Set(['ar']);
const STORAGE_KEY = 'tradia.uiLang';

let current = 'fr';
let strings = {};
let fallback = {};
const cache = new Map();
const listeners = new Set();

async function load(lang) {
  if (!cache.has(lang)) {
    const response = await fetch(`/assets/i18n/${lang}.json`);
    if (!response.ok) throw new Error(`catalogue ${lang}: HTTP ${response.status}`);
    cache.set(lang, await response.json());
  }
  return cache.get(lang);
}

/** The interface language now shown. */
export function lang() { return current; }

/** Whether the interface is written right to left. */
export function isRtl() { return RTL.has(current); }

/** The string for `key`, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  let s = strings[key] ?? fallback[key];
  if (s === undefined) return key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/** Whether the catalogue has a string for `key`. */
export function has(key) { return key in strings || key in fallback; }

/** Formats a number in the interface language (Arabic keeps Western digits, as in Maghreb use). */
export function num(n, options) {
  const locale = current === 'ar' ? 'ar-u-nu-latn' : current;
  return new Intl.NumberFormat(locale, options).format(n);
}

/** The name of a language (BCP 47 code) in the interface language. */
export function languageName(code, nativeName) {
  try {
    const name = new Intl.DisplayNames([current], { type: 'language' }).of(code);
    if (name && name !== code) return name;
  } catch { /* unknown code: use the server's name */ }
  return nativeName || code;
}

/** Applies the catalogue to every element under `root`. */
export function apply(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

/** Calls `fn` after every language change. */
export function onChange(fn) { listeners.add(fn); }

/** Switches the interface to `next`, remembering the choice when `remember` is true. */
export async function setLanguage(next, remember = true) {
  if (!LANGUAGES.includes(next)) next = 'fr';
  [strings, fallback] = await Promise.all([load(next), load('fr')]);
  current = next;
  const html = document.documentElement;
  html.lang = next;
  html.dir = RTL.has(next) ? 'rtl' : 'ltr';
  document.title = t('page_title');
  if (remember) {
    try { localStorage.setItem(STORAGE_KEY, next); } catch { /* private mode */ }
  }
  apply();
  for (const fn of listeners) fn(next);
}

/** The language to start with: the user's saved choice, else what the server negotiated. */
export function initialLanguage() {
  let saved = null;
  try { saved = localStorage.getItem(STORAGE_KEY); } catch { /* private mode */ }
  if (LANGUAGES.includes(saved)) return saved;
  const fromServer = document.documentElement.lang;
  return LANGUAGES.includes(fromServer) ? fromServer : 'fr';
}
