// Text tab: two panes; the translation streams in token by token (POST /api/v1/translate/stream).
import * as i18n from './i18n.js';
import { t, num } from './i18n.js';
import * as api from './api.js';
import { keepInput } from './keep.js';

let controller = null;
let detected = null;

async function setDirections() {
  const source = document.getElementById('text-source-lang').value;
  const target = document.getElementById('text-target-lang').value;
  const input = document.getElementById('text-source');
  const output = document.getElementById('text-output');
  // "auto" lets the browser pick the direction from the first strong character.
  input.dir = source === 'auto' ? 'auto' : (await api.isRtlLanguage(source)) ? 'rtl' : 'ltr';
  input.lang = source === 'auto' ? '' : source;
  output.dir = (await api.isRtlLanguage(target)) ? 'rtl' : 'ltr';
  output.lang = target;
}

function renderCount() {
  const text = document.getElementById('text-source').value;
  document.getElementById('text-count').textContent = t('char_count', { count: num([...text].length) });
}

function renderDetected() {
  const node = document.getElementById('text-detected');
  node.textContent = detected ? t('detected_language', { name: i18n.languageName(detected) }) : '';
}

function setStatus(key) {
  document.getElementById('text-status').textContent = key ? t(key) : '';
}

async function translate(event) {
  event?.preventDefault();
  const messages = document.getElementById('text-messages');
  const output = document.getElementById('text-output');
  const text = document.getElementById('text-source').value;
  const source = document.getElementById('text-source-lang').value;
  const target = document.getElementById('text-target-lang').value;
  const model = document.getElementById('text-model').value;
  messages.replaceChildren();
  if (!text.trim()) { messages.append(message(t('error_empty_text'))); return; }
  if (source === target) { messages.append(message(t('error_same_language'))); return; }
  controller?.abort();
  controller = new AbortController();
  const mine = controller;
  output.textContent = '';
  output.setAttribute('aria-busy', 'true');
  output.classList.add('streaming');
  detected = null;
  renderDetected();
  setStatus('translating');
  const body = { text, target_lang: target };
  if (source !== 'auto') body.source_lang = source;
  if (model) body.model = model;
  try {
    const response = await api.postJson('/api/v1/translate/stream', body, { signal: mine.signal });
    let finished = false;
    for await (const { event, data } of api.events(response)) {
      if (event === 'token') {
        output.append(typeof data === 'string' ? data : data.text ?? '');
      } else if (event === 'done') {
        const result = data.translations?.[0] ?? data;
        if (typeof result.text === 'string') output.textContent = result.text;
        detected = result.detected ? result.source_lang : null;
        finished = true;
      } else if (event === 'error') {
        throw api.eventError(data);
      }
    }
    setStatus(finished ? 'translation_done' : 'translation_interrupted');
  } catch (e) {
    if (e.name === 'AbortError') return;
    setStatus(null);
    messages.append(message(e instanceof api.ApiError ? e.display() : t('error_generic')));
  } finally {
    if (controller === mine) {
      output.setAttribute('aria-busy', 'false');
      output.classList.remove('streaming');
      renderDetected();
    }
  }
}

function message(text) {
  const p = document.createElement('p');
  p.className = 'message error';
  p.textContent = text;
  return p;
}

async function swap() {
  const source = document.getElementById('text-source-lang');
  const target = document.getElementById('text-target-lang');
  const input = document.getElementById('text-source');
  const output = document.getElementById('text-output');
  const from = source.value === 'auto' ? detected : source.value;
  if (!from) return; // nothing known to swap to yet
  const to = target.value;
  target.value = from;
  source.value = to;
  for (const s of [source, target]) s.dispatchEvent(new Event('change'));
  if (output.textContent) {
    input.value = output.textContent;
    output.textContent = '';
    detected = null;
    renderDetected();
    renderCount();
  }
  await setDirections();
}

async function copy() {
  const text = document.getElementById('text-output').textContent;
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
    setStatus('copied');
  } catch {
    // Clipboard API needs a secure context (https or localhost): select the text instead.
    const range = document.createRange();
    range.selectNodeContents(document.getElementById('text-output'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    setStatus('copy_select');
  }
}

export function initText() {
  const input = document.getElementById('text-source');
  document.getElementById('text-form').addEventListener('submit', translate);
  input.addEventListener('input', renderCount);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) translate(e);
  });
  document.getElementById('text-swap').addEventListener('click', swap);
  document.getElementById('text-copy').addEventListener('click', copy);
  for (const id of ['text-source-lang', 'text-target-lang']) {
    document.getElementById(id).addEventListener('change', setDirections);
  }
  i18n.onChange(() => { renderCount(); renderDetected(); setStatus(null); });
  keepInput(input);
  renderCount();
  setDirections();
}
