// Assistants tabs: correction (with explanations), reformulation (with highlights) and meeting
// summary (from notes or a photo of notes), each streamed from /api/v1/assist/{kind}/stream.
import * as i18n from './i18n.js';
import { t } from './i18n.js';
import * as api from './api.js';
import { keepInput } from './keep.js';
import { copyText, selectText } from './dom.js';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function str(item, ...keys) {
  if (typeof item === 'string') return item;
  for (const k of keys) if (typeof item?.[k] === 'string' && item[k]) return item[k];
  return '';
}

/** The text with every highlighted phrase wrapped in <mark>. */
function withHighlights(text, phrases) {
  const ranges = [];
  for (const phrase of phrases) {
    if (!phrase) continue;
    let from = 0;
    for (;;) {
      const at = text.indexOf(phrase, from);
      if (at < 0) break;
      if (!ranges.some(([s, e]) => at < e && at + phrase.length > s)) ranges.push([at, at + phrase.length]);
      from = at + phrase.length;
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const out = el('p', { class: 'result-text', dir: 'auto' });
  let pos = 0;
  for (const [s, e] of ranges) {
    out.append(text.slice(pos, s), el('mark', { text: text.slice(s, e) }));
    pos = e;
  }
  out.append(text.slice(pos));
  return out;
}

function list(title, items, render) {
  if (!items?.length) return el('section', {}, el('h3', { text: title }), el('p', { class: 'hint', text: t('nothing') }));
  return el('section', {}, el('h3', { text: title }), el('ul', { class: 'result-list' }, ...items.map((i) => el('li', { dir: 'auto' }, ...render(i)))));
}

const RENDER = {
  correct(r) {
    const text = str(r, 'corrected', 'corrected_text', 'text');
    return [
      el('h3', { text: t('corrected_text') }),
      el('p', { class: 'result-text', dir: 'auto', text }),
      list(t('explanations'), r.explanations ?? r.corrections, (e) => {
        if (typeof e === 'string') return [e];
        const fixed = e.correction ?? e.corrected;
        const change = e.original && fixed ? el('span', { class: 'change' }, el('bdi', {}, el('del', { text: e.original })), ' → ', el('bdi', {}, el('ins', { text: fixed }))) : null;
        return [change, change ? ' — ' : null, str(e, 'explanation', 'reason', 'message')];
      }),
    ];
  },
  reformulate(r) {
    const text = str(r, 'reformulated', 'reformulated_text', 'text');
    const highlights = r.highlights ?? [];
    const phrases = highlights.map((h) => str(h, 'text', 'phrase', 'reformulated', 'after'));
    return [
      el('h3', { text: t('reformulated_text') }),
      withHighlights(text, phrases),
      list(t('highlights'), highlights, (h) => {
        const phrase = str(h, 'text', 'phrase', 'reformulated', 'after');
        const why = typeof h === 'object' ? str(h, 'explanation', 'reason', 'note') : '';
        return [el('mark', { text: phrase }), why ? ` — ${why}` : null];
      }),
    ];
  },
  summary(r) {
    return [
      el('h3', { text: t('summary') }),
      el('p', { class: 'result-text', dir: 'auto', text: str(r, 'summary', 'text') }),
      list(t('decisions'), r.decisions, (d) => [str(d, 'decision', 'text', 'description')]),
      list(t('action_items'), r.action_items ?? r.actions, (a) => {
        const task = str(a, 'task', 'action', 'text', 'description');
        const who = typeof a === 'object' ? str(a, 'owner', 'assignee', 'who') : '';
        const due = typeof a === 'object' ? str(a, 'due', 'deadline', 'when') : '';
        return [task, who ? el('span', { class: 'hint', text: ` — ${t('owner', { name: who })}` }) : null,
          due ? el('span', { class: 'hint', text: ` — ${t('due', { date: due })}` }) : null];
      }),
    ];
  },
};

function initForm(form) {
  const kind = form.dataset.assist;
  const input = form.querySelector('[data-assist-input]');
  const photo = form.querySelector('[data-assist-photo]');
  const preview = form.querySelector('[data-assist-preview]');
  const messages = form.querySelector('[data-assist-messages]');
  const result = form.querySelector('[data-assist-result]');
  const button = form.querySelector('button[type="submit"]');
  let controller = null;
  let last = null;

  const photoName = form.querySelector('[data-assist-photo-name]');
  const photoClear = form.querySelector('[data-assist-photo-clear]');
  const showPhoto = () => {
    const file = photo.files[0];
    if (preview.src) URL.revokeObjectURL(preview.src);
    if (file) {
      preview.src = URL.createObjectURL(file);
      preview.alt = t('photo_preview', { name: file.name });
      preview.hidden = false;
      photoName.textContent = file.name;
    } else {
      preview.removeAttribute('src');
      preview.hidden = true;
      photoName.textContent = t('no_photo');
    }
    photoClear.hidden = !file;
  };
  photo?.addEventListener('change', showPhoto);
  photoClear?.addEventListener('click', () => { photo.value = ''; showPhoto(); photo.focus(); });
  if (photo) i18n.onChange(showPhoto);

  const showResult = () => {
    if (!last) return;
    const parts = RENDER[kind](last);
    const main = parts.find((p) => p.classList?.contains('result-text'));
    const text = main?.textContent ?? '';
    if (!text.trim()) {
      // A model that found nothing to say (a blurred photo, empty notes): say so.
      result.replaceChildren(el('p', { class: 'message notice', 'data-role': 'empty-result', text: t('result_empty') }));
      return;
    }
    const status = el('span', { class: 'hint', 'aria-live': 'polite' });
    const copy = el('button', { type: 'button', class: 'button secondary small', 'data-action': 'copy', text: t('copy') });
    copy.addEventListener('click', async () => {
      if (await copyText(text)) status.textContent = t('result_copied');
      else { selectText(main); status.textContent = t('copy_select'); }
    });
    const tools = el('div', { class: 'actions result-actions' }, copy);
    if (kind !== 'summary') {
      // Correction and reformulation give a better version of the user's text: take it.
      const use = el('button', { type: 'button', class: 'button secondary small', 'data-action': 'use-result', text: t('use_this_text') });
      use.addEventListener('click', () => {
        input.value = text;
        input.dispatchEvent(new Event('input'));
        input.focus();
        status.textContent = t('text_replaced');
      });
      tools.append(use);
    }
    tools.append(status);
    result.replaceChildren(...parts, tools);
  };
  i18n.onChange(showResult);
  keepInput(input);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    messages.replaceChildren();
    const text = input.value;
    const image = photo?.files[0] ?? null;
    if (!text.trim() && !image) {
      messages.append(el('p', { class: 'message error', text: t(kind === 'summary' ? 'error_empty_notes' : 'error_empty_text') }));
      return;
    }
    controller?.abort();
    controller = new AbortController();
    const mine = controller;
    const stream = el('p', { class: 'stream', dir: 'auto', 'data-role': 'stream' });
    last = null;
    result.hidden = false;
    result.setAttribute('aria-busy', 'true');
    result.replaceChildren(el('p', { class: 'hint', text: t('working') }), stream);
    button.disabled = true;
    try {
      let response;
      const url = `/api/v1/assist/${kind}/stream`;
      // The summary reads `notes` (and an `image` file part); the other assistants read `text`.
      const field = kind === 'summary' ? 'notes' : 'text';
      if (image) {
        const body = new FormData();
        if (text.trim()) body.append(field, text);
        body.append('image', image, image.name);
        response = await api.request(url, { method: 'POST', body, signal: mine.signal, headers: { Accept: 'text/event-stream' } });
      } else {
        response = await api.postJson(url, { [field]: text }, { signal: mine.signal });
      }
      for await (const { event, data } of api.events(response)) {
        if (event === 'token') stream.append(typeof data === 'string' ? data : data.text ?? '');
        else if (event === 'done') { last = data.result ?? data; showResult(); }
        else if (event === 'error') throw api.eventError(data);
      }
      if (!last) throw new api.ApiError(0, 'stream_interrupted', null);
    } catch (err) {
      if (err.name === 'AbortError') return;
      messages.append(el('p', { class: 'message error', text: err instanceof api.ApiError ? err.display() : t('error_generic') }));
      if (!last) result.hidden = !stream.textContent;
    } finally {
      if (controller === mine) {
        button.disabled = false;
        result.setAttribute('aria-busy', 'false');
      }
    }
  });
}

export function initAssistants() {
  for (const form of document.querySelectorAll('[data-assist]')) initForm(form);
}
