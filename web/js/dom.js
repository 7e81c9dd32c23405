// Small DOM helpers shared by the accounts and administration screens.
import * as i18n from './i18n.js';

/** An element with attributes (`class`, `text`, others as attributes) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

/** Replaces the messages of `box` by error paragraphs (none clears it). */
export function showErrors(box, messages) {
  box.replaceChildren(...messages.map((m) => el('p', { class: 'message error', text: m })));
}

/** A date and time in the interface language (Western digits in Arabic), or "—". */
export function dateTime(value) {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const locale = i18n.lang() === 'ar' ? 'ar-u-nu-latn' : i18n.lang();
  return date.toLocaleString(locale, { dateStyle: 'short', timeStyle: 'short' });
}

/** Copies `text`; false when the browser refuses (no secure context), so the caller can select it. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Selects the text of `node`, for a manual copy. */
export function selectText(node) {
  const range = document.createRange();
  range.selectNodeContents(node);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
}

/** The service's rule for local passwords: at least this many characters. */
export const MIN_PASSWORD_CHARS = 10;

/** Whether a new password is long enough for the service. */
export function passwordLongEnough(password) { return [...password].length >= MIN_PASSWORD_CHARS; }
