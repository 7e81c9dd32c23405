// Documents tab: choose files, upload them as one job, follow each job live (SSE), cancel,
// retry, download, delete (after a confirmation), and "my translations": the user's jobs as the
// service lists them (GET /api/v1/jobs), so the history is the same on any computer and in any
// browser. The list is read again every few seconds, so a job started in another tab or on
// another computer shows up without a reload.
import * as i18n from './i18n.js';
import { t, num } from './i18n.js';
import * as api from './api.js';
import { qualitySummary } from './report.js';
import { appendUploadOptions, glossaryName, initUploadOptions } from './memory.js';

// Where earlier versions of the page kept job ids; the service's list replaces it.
const OLD_HISTORY_KEY = 'tradia.jobs';
const PAGE_SIZE = 50;
// Browsers allow six HTTP/1.1 connections per host: keep some free for the rest of the page.
const MAX_LIVE_STREAMS = 3;
const POLL_MS = 2500;
// How often the list itself is read again, for jobs started elsewhere.
const LIST_POLL_MS = 3000;
const FINAL = new Set(['done', 'failed', 'cancelled']);

const jobs = new Map(); // id → { job, el, stream }
const polled = new Set();
let selected = [];
let limits = null;
let nextPage = null; // the `next` cursor of the last page of the list, null at the end

function time(value) {
  if (value === null || value === undefined) return null;
  const ms = typeof value === 'number' ? (value < 1e12 ? value * 1000 : value) : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

/** The job JSON of the API, reduced to what the page shows. */
export function normaliseJob(j) {
  const files = (j.files ?? []).map((f, i) => ({
    name: f.name ?? f.filename ?? f.file_name ?? `#${i + 1}`,
    done: f.progress?.done ?? f.done ?? 0,
    total: f.progress?.total ?? f.total ?? 0,
    status: f.status ?? null,
    stage: f.stage ?? null,
    size: f.size_bytes ?? null,
    source: f.source_lang ?? f.detected_source_lang ?? null,
    copied: !!f.copied_unchanged,
    detected: f.detected_source_lang ?? null,
    // The document's own title: the brief when the user gave none.
    title: f.title ?? null,
    error: f.error ?? null,
    // Segments kept in the source language: a count, or a list ({segment, code, message, text}).
    keptCount: Array.isArray(f.kept) ? f.kept.length : Number(f.kept ?? 0) || 0,
    keptList: Array.isArray(f.kept) ? f.kept : [],
  }));
  const kept = Array.isArray(j.kept) ? [...j.kept] : [];
  for (const f of files) for (const k of f.keptList) kept.push({ file: f.name, ...(typeof k === 'object' ? k : { id: k }) });
  const keptCount = typeof j.kept_segments === 'number' ? j.kept_segments
    : Math.max(kept.length, files.reduce((n, f) => n + f.keptCount, 0));
  return {
    id: j.id,
    status: j.status,
    done: j.progress?.done ?? 0,
    total: j.progress?.total ?? 0,
    source: j.source_lang ?? 'auto',
    detected: !!j.source_detected,
    target: j.target_lang ?? '',
    model: j.model ?? null,
    created: time(j.created_at),
    started: time(j.started_at),
    finished: time(j.finished_at ?? j.completed_at ?? j.ended_at),
    updated: time(j.updated_at),
    error: j.error ?? null,
    notice: j.notice ?? null,
    // Set on a done job that mostly failed ({code, message}).
    warning: j.warning ?? null,
    // Memory, glossary and style options: only in the job's own view (GET /api/v1/jobs/{id}).
    options: j.options ?? null,
    files,
    kept,
    keptCount,
  };
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function percent(done, total, status) {
  if (total > 0) return Math.min(100, Math.floor((done * 100) / total));
  return status === 'done' ? 100 : 0;
}

function errorText(error) {
  if (!error) return '';
  if (typeof error === 'string') return i18n.has(`error_${error}`) ? t(`error_${error}`) : error;
  return new api.ApiError(0, error.code ?? null, error.message ?? null).display();
}

function el(tag, attrs = {}, ...children) {
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

// ---- Selecting files -------------------------------------------------------------------------

function extension(name) {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

function mb(bytes) { return num(bytes / (1024 * 1024), { maximumFractionDigits: 1 }); }

/** A size for people: "340 kB" below 1 MB, "3.4 MB" above (units in the interface language). */
export function sizeText(bytes) {
  if (bytes < 1024 * 1024) return t('size_kb', { size: num(Math.max(1, Math.round(bytes / 1024))) });
  return t('size_mb', { size: mb(bytes) });
}

function showMessages(box, messages) {
  box.replaceChildren(...messages.map((m) => el('p', { class: 'message error', text: m })));
}

// Zip-based formats: their text cannot be sampled in the page.
const PACKED = new Set(['docx', 'pptx', 'xlsx', 'odt', 'odp', 'ods', 'epub', 'scar', 'scwsp', 'zip']);
const detectedLanguage = new Map(); // File → language code the service detected in a sample

/**
 * Asks the service the language of a sample of `file` (text formats only: the tags taken out),
 * so the form can warn before uploading a file that already is in the target language.
 */
async function sampleLanguage(file) {
  if (PACKED.has(extension(file.name))) return;
  try {
    const head = await file.slice(0, 64 * 1024).text();
    const text = head.replace(/<[^>]*>/g, ' ').replace(/&[#\w]+;/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 20000);
    if ([...text.matchAll(/\p{L}/gu)].length < 20) return;
    const answer = await api.sendJson('POST', '/api/v1/detect', { text });
    if (answer?.lang) {
      detectedLanguage.set(file, answer.lang);
      renderSelection();
    }
  } catch { /* no warning then: the job still flags the file */ }
}

function addFiles(fileList) {
  const messages = [];
  for (const file of fileList) {
    const ext = extension(file.name);
    if (limits.extensions && !limits.extensions.has(ext)) {
      messages.push(t('reject_format', { name: file.name, ext: ext || '—' }));
    } else if (file.size === 0) {
      messages.push(t('reject_empty', { name: file.name }));
    } else if (file.size > limits.maxUploadBytes) {
      messages.push(t('reject_too_big', { name: file.name, size: sizeText(file.size), max: sizeText(limits.maxUploadBytes) }));
    } else if (selected.length >= limits.maxFiles) {
      messages.push(t('reject_too_many', { name: file.name, max: limits.maxFiles }));
    } else if (!selected.some((f) => f.name === file.name && f.size === file.size)) {
      selected.push(file);
      sampleLanguage(file);
    }
  }
  showMessages(document.getElementById('doc-messages'), messages);
  renderSelection();
}

function renderSelection() {
  const list = document.getElementById('doc-selected');
  list.replaceChildren(...selected.map((file, index) => {
    const remove = el('button', { type: 'button', class: 'button link small', text: t('remove') });
    remove.setAttribute('aria-label', t('remove_file', { name: file.name }));
    remove.addEventListener('click', () => { selected.splice(index, 1); renderSelection(); });
    const target = document.getElementById('doc-target').value;
    const lang = detectedLanguage.get(file);
    const same = lang && target && lang.split('-')[0] === target.split('-')[0]
      && document.getElementById('doc-source').value === 'auto';
    return el('li', {}, el('span', { class: 'file-name', text: file.name }),
      el('span', { class: 'hint', text: sizeText(file.size) }), remove,
      same ? el('span', { class: 'file-warning', 'data-role': 'same-language', text: t('same_language_warning', { name: i18n.languageName(lang) }) }) : null);
  }));
  const total = selected.reduce((s, f) => s + f.size, 0);
  document.getElementById('doc-submit').disabled = selected.length === 0;
  document.getElementById('doc-clear').hidden = selected.length === 0;
  list.hidden = selected.length === 0;
  if (total > limits.maxUploadBytes) {
    showMessages(document.getElementById('doc-messages'),
      [t('reject_total_too_big', { size: sizeText(total), max: sizeText(limits.maxUploadBytes) })]);
  }
}

function renderLimits() {
  if (!limits) return;
  const parts = [t('limits', { max: sizeText(limits.maxUploadBytes), files: num(limits.maxFiles) })];
  if (limits.extensions) parts.push(t('formats', { list: `\u2066${[...limits.extensions].sort().map((e) => `.${e}`).join(' ')}\u2069` }));
  document.getElementById('doc-limits').textContent = parts.join(' ');
  // The picker offers the accepted formats only (a drop is checked by addFiles).
  const input = document.getElementById('doc-files');
  if (limits.extensions) input.accept = [...limits.extensions].sort().map((e) => `.${e}`).join(',');
  else input.removeAttribute('accept');
}

// ---- Uploading -------------------------------------------------------------------------------

function upload(form, onProgress) {
  // XMLHttpRequest, not fetch: it reports upload progress, which matters for 50 MB files.
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/jobs');
    xhr.responseType = 'json';
    xhr.setRequestHeader('Accept', 'application/json');
    for (const [name, value] of Object.entries(api.csrfHeaders('POST'))) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
    xhr.addEventListener('load', () => {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.response) resolve(xhr.response);
      else {
        const err = xhr.response?.error;
        const error = new api.ApiError(xhr.status, err?.code ?? null, err?.message ?? null,
          api.retryAfter(xhr.getResponseHeader('Retry-After')));
        api.noteAuthFailure(error);
        reject(error);
      }
    });
    xhr.addEventListener('error', () => reject(new api.ApiError(0, 'network', null)));
    xhr.send(form);
  });
}

async function submit(event) {
  event.preventDefault();
  const messages = document.getElementById('doc-messages');
  const button = document.getElementById('doc-submit');
  if (!selected.length) { showMessages(messages, [t('reject_no_files')]); return; }
  const source = document.getElementById('doc-source').value;
  const target = document.getElementById('doc-target').value;
  const model = document.getElementById('doc-model').value;
  if (source === target) { showMessages(messages, [t('error_same_language')]); return; }
  const total = selected.reduce((s, f) => s + f.size, 0);
  if (total > limits.maxUploadBytes) {
    showMessages(messages, [t('reject_total_too_big', { size: sizeText(total), max: sizeText(limits.maxUploadBytes) })]);
    return;
  }
  const form = new FormData();
  for (const file of selected) form.append('file', file, file.name);
  if (source && source !== 'auto') form.append('source_lang', source);
  form.append('target_lang', target);
  if (model) form.append('model', model);
  appendUploadOptions(form);
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  const label = button.textContent;
  try {
    const job = await upload(form, (f) => { button.textContent = t('uploading', { pct: num(Math.round(f * 100)) }); });
    showMessages(messages, []);
    selected = [];
    renderSelection();
    show(job, true);
    follow(job.id);
    // The job's own view has its options (the glossary, the brief…) for its row.
    api.json(`/api/v1/jobs/${encodeURIComponent(job.id)}`).then((j) => show(j)).catch(() => {});
  } catch (e) {
    if (!(e instanceof api.ApiError)) console.error(e);
    // A refused size names the service's limit, which the page knows.
    const reason = e instanceof api.ApiError && (e.code === 'upload_too_large' || e.status === 413)
      ? t('upload_too_large_max', { max: sizeText(limits.maxUploadBytes) })
      : e instanceof api.ApiError ? e.display() : t('error_generic');
    showMessages(messages, [t('upload_failed', { reason })]);
    // The server's own words name the file and the exact problem: useful to whoever helps.
    if (e.message && e.code && e.message !== e.code) {
      messages.append(el('p', { class: 'message-detail hint', dir: 'auto', text: t('technical_detail', { message: e.message }) }));
    }
    button.disabled = false;
  } finally {
    button.textContent = label;
    button.removeAttribute('aria-busy');
  }
}

// ---- Job rows --------------------------------------------------------------------------------

function show(raw, first = false) {
  const job = normaliseJob(raw);
  let entry = jobs.get(job.id);
  // A view read before the one shown (a poll answered after a newer event) would take the job
  // back: a file seen translating shown reading again.
  if (entry && job.updated != null && entry.job.updated != null
    && (job.updated < entry.job.updated || (job.updated === entry.job.updated && job.done < entry.job.done))) return;
  if (!entry) {
    entry = { job, el: el('li', { class: 'job', 'data-job-id': job.id }), stream: null };
    jobs.set(job.id, entry);
    const list = document.getElementById('jobs');
    if (first) list.prepend(entry.el); else list.append(entry.el);
  }
  const previous = entry.job.status;
  // Lists and progress events carry no options: keep those read before.
  if (!job.options && entry.job.options) job.options = entry.job.options;
  entry.job = job;
  render(entry);
  if (!first && previous !== job.status) {
    const names = job.files.map((f) => f.name).join(', ');
    document.getElementById('jobs-live').textContent = `${names} : ${t(`status_${job.status}`)}`;
  }
  document.getElementById('jobs-empty').hidden = jobs.size > 0;
  if (FINAL.has(job.status)) stopFollowing(job.id);
}

function render(entry) {
  const { job } = entry;
  entry.confirming = false;
  const root = entry.el;
  root.dataset.status = job.status;
  const names = job.files.map((f) => f.name).join(', ') || t('job_untitled');
  const title = el('h3', { class: 'job-title' }, el('bdi', { class: 'job-names', text: names }),
    el('span', { class: `badge status-${job.status}`, 'data-role': 'status', text: t(`status_${job.status}`) }));
  // Files of one job may be in different languages: then each file names its own.
  const perFile = [...new Set(job.files.map((f) => f.source).filter(Boolean))];
  const source = job.source && job.source !== 'auto' && !job.detected ? i18n.languageName(job.source)
    : perFile.length ? t('detected_short', { name: perFile.map((c) => i18n.languageName(c)).join(', ') })
      : t('detect_language');
  const meta = [t('language_pair', { source, target: i18n.languageName(job.target) })];
  if (job.model) meta.push(job.model);
  if (job.created) meta.push(new Date(job.created).toLocaleString(i18n.lang() === 'ar' ? 'ar-u-nu-latn' : i18n.lang(), { dateStyle: 'short', timeStyle: 'short' }));
  // Each part isolated: a model name or a date must not reorder its neighbours in Arabic.
  const metaLine = el('p', { class: 'job-meta hint' });
  meta.forEach((part, i) => { if (i) metaLine.append(' · '); metaLine.append(el('bdi', { text: part })); });
  const files = el('ul', { class: 'job-files' }, ...job.files.map((f) => fileRow(job, f, perFile.length > 1)));
  const totals = el('span', { class: 'job-total', 'data-role': 'total',
    text: job.total > 0 ? t('segments_total', { done: num(job.done), total: num(job.total), pct: num(percent(job.done, job.total, job.status)) }) : '' });
  const timing = el('span', { class: 'job-time hint', 'data-role': 'time' });
  const actions = el('div', { class: 'job-actions' });
  if (!FINAL.has(job.status)) {
    const cancel = el('button', { type: 'button', class: 'button secondary small', 'data-action': 'cancel', text: t('cancel') });
    cancel.setAttribute('aria-label', t('cancel_job', { name: names }));
    cancel.addEventListener('click', () => cancelJob(job.id, cancel));
    actions.append(cancel);
  } else {
    if (job.status === 'failed' || job.status === 'cancelled') {
      const retry = el('button', { type: 'button', class: 'button secondary small', 'data-action': 'retry', text: t('retry') });
      retry.setAttribute('aria-label', t('retry_job', { name: names }));
      retry.addEventListener('click', () => retryJob(job.id, retry));
      actions.append(retry);
    }
    if (job.status === 'done') {
      const link = el('a', { class: 'button primary small', href: `/api/v1/jobs/${encodeURIComponent(job.id)}/result`, download: '', 'data-action': 'download',
        text: job.files.length > 1 ? t('download_zip') : t('download') });
      link.setAttribute('aria-label', t('download_job', { name: names }));
      actions.append(link);
    }
    const remove = el('button', { type: 'button', class: 'button link small', 'data-action': 'delete', text: t('delete') });
    remove.setAttribute('aria-label', t('delete_job', { name: names }));
    remove.addEventListener('click', () => confirmDelete(entry, names));
    actions.append(remove);
  }
  const options = optionsLine(job);
  const notice = job.notice && !FINAL.has(job.status) && i18n.has(`notice_${job.notice}`)
    ? el('p', { class: 'message notice', role: 'status', 'data-role': 'notice', 'data-notice': job.notice, text: t(`notice_${job.notice}`) })
    : null;
  const children = [title, metaLine, options, notice, files,
    el('div', { class: 'job-foot' }, totals, timing, actions)];
  if (job.error) children.push(el('p', { class: 'message error', text: errorText(job.error) }));
  if (job.status === 'done' && job.warning) {
    const key = `job_warning_${job.warning.code}`;
    children.push(el('p', { class: 'message warning', 'data-role': 'warning',
      text: i18n.has(key) ? t(key, { kept: num(job.keptCount), total: num(job.total) }) : job.warning.message ?? '' }));
  }
  if (job.keptCount > 0) {
    // The list of segments when the server gives it, else how many each file kept.
    const items = job.kept.length ? job.kept.map((k) => {
        const item = typeof k === 'object' ? k : { id: k };
        const number = item.segment ?? item.id;
        const text = item.text ?? item.source ?? (number !== undefined ? t('segment_id', { id: number }) : '');
        const reason = keptReason(item.reason ?? item.kept ?? (item.code ? { code: item.code, message: item.message } : null));
        return el('li', {},
          item.file && job.files.length > 1 ? el('bdi', { class: 'hint', text: item.file }) : null,
          item.file && job.files.length > 1 ? ' : ' : null,
          el('bdi', { class: 'kept-text', text }), reason ? el('span', { class: 'hint', text: ` (${reason})` }) : null);
      }) : job.files.filter((f) => f.keptCount > 0).map((f) => el('li', {},
      el('bdi', { text: f.name }), ` : ${t('kept_in_file', { count: num(f.keptCount) })}`));
    children.push(el('details', { class: 'job-kept' },
      el('summary', { text: t('kept_summary', { count: num(job.keptCount) }) }),
      el('p', { class: 'hint', text: t('kept_explanation') }),
      el('ul', {}, ...items)));
  }
  if (job.status === 'done') children.push(qualitySummary(job.id, job.files.length));
  // Progress events rebuild the row: keep the keyboard focus and an opened list where they were.
  const focused = root.contains(document.activeElement) ? document.activeElement.dataset.action : null;
  const open = root.querySelector('details')?.open;
  root.replaceChildren(...children);
  if (open) root.querySelector('details').open = true;
  if (focused) root.querySelector(`[data-action="${focused}"]`)?.focus();
  renderTime(entry);
}

/**
 * The job's options worth seeing (glossary, register, memory, brief), or null. The brief is the
 * user's, else the documents' own titles (what the model was told).
 */
function optionsLine(job) {
  const o = job.options;
  const parts = [];
  if (o?.glossary_id) parts.push(t('job_glossary', { name: glossaryName(o.glossary_id) ?? o.glossary_id }));
  if (o?.formality && o.formality !== 'default') parts.push(t(`formality_${o.formality}`));
  if (o?.memory === 'off') parts.push(t('memory_scope_off'));
  if (o?.keep_memory) parts.push(t('keep_memory_short'));
  const titles = [...new Set(job.files.map((f) => f.title).filter(Boolean))];
  const brief = o?.brief ?? (titles.length ? titles.join(' · ') : null);
  if (brief) parts.push(t('job_brief', { brief }));
  if (!parts.length) return null;
  const line = el('p', { class: 'job-options hint', 'data-role': 'options' });
  parts.forEach((part, i) => { if (i) line.append(' · '); line.append(el('bdi', { text: part })); });
  return line;
}

/** What a file's row says: its name, size, language, stage and progress. */
function fileRow(job, f, languages) {
  // Jobs from before per-file stages: guessed from the status and the counts.
  const stage = f.stage ?? (f.error ? 'failed' : job.status === 'done' ? 'done' : f.total > 0 ? 'translating' : 'waiting');
  const pct = percent(f.done, f.total, stage === 'done' ? 'done' : stage);
  const bar = el('progress', { max: '100', 'aria-label': t('file_progress', { name: f.name }) });
  // Indeterminate only while it is read: a file waiting its turn does not move.
  if (stage !== 'reading') bar.value = stage === 'done' || stage === 'merging' ? 100 : stage === 'translating' ? pct : 0;
  let state;
  if (stage === 'failed') state = t('stage_failed', { reason: errorText(f.error) || t('error_generic') });
  else if (stage === 'done' && f.copied) state = t('stage_copied', { name: i18n.languageName(job.target) });
  else if (stage === 'translating') state = t('stage_translating', { done: num(f.done), total: num(f.total) });
  else state = t(`stage_${stage}`);
  const details = [];
  if (f.size !== null) details.push(sizeText(f.size));
  if (f.source && (languages || f.copied)) details.push(i18n.languageName(f.source));
  return el('li', { class: 'job-file', 'data-file': f.name, 'data-stage': stage },
    el('bdi', { class: 'file-name', text: f.name }),
    bar,
    el('span', { class: 'file-pct', 'data-role': 'percent', text: `${num(stage === 'done' ? 100 : pct)} %` }),
    el('span', { class: `hint file-count${stage === 'failed' ? ' file-error' : ''}`, 'data-role': 'stage', text: state }),
    details.length ? el('span', { class: 'hint file-details', text: details.join(' · ') }) : null,
    f.copied ? el('span', { class: 'file-warning', 'data-role': 'copied', text: t('copied_unchanged_warning', { name: i18n.languageName(job.target) }) }) : null);
}

function keptReason(reason) {
  if (!reason) return '';
  const code = typeof reason === 'string' ? reason : reason.code;
  if (code && i18n.has(`kept_${code}`)) return t(`kept_${code}`);
  return typeof reason === 'string' ? reason : reason.message ?? code ?? '';
}

function renderTime(entry) {
  const { job } = entry;
  const node = entry.el.querySelector('[data-role="time"]');
  if (!node) return;
  const start = job.started ?? job.created;
  if (!start) { node.textContent = ''; return; }
  const end = FINAL.has(job.status) ? (job.finished ?? job.updated ?? null) : Date.now();
  if (!end) { node.textContent = ''; return; }
  const elapsed = end - start;
  const parts = [t('elapsed', { time: duration(elapsed) })];
  if (job.status === 'running' && job.done > 0 && job.total > job.done) {
    parts.push(t('remaining', { time: duration((elapsed * (job.total - job.done)) / job.done) }));
  }
  node.textContent = parts.join(' · ');
}

// ---- Following jobs --------------------------------------------------------------------------

function liveCount() { let n = 0; for (const e of jobs.values()) if (e.stream) n += 1; return n; }

function follow(id) {
  const entry = jobs.get(id);
  if (!entry || FINAL.has(entry.job.status) || entry.stream) return;
  if (liveCount() >= MAX_LIVE_STREAMS) { polled.add(id); return; }
  polled.delete(id);
  const source = new EventSource(`/api/v1/jobs/${encodeURIComponent(id)}/events`);
  entry.stream = source;
  const onJob = (e) => { try { show(JSON.parse(e.data)); } catch { /* ignore a malformed event */ } };
  source.addEventListener('progress', onJob);
  source.addEventListener('message', onJob);
  source.addEventListener('end', (e) => { onJob(e); stopFollowing(id); });
  source.addEventListener('error', () => {
    // The browser retries by itself while CONNECTING; a CLOSED stream falls back to polling.
    if (source.readyState === EventSource.CLOSED) { stopFollowing(id); refresh(id); }
  });
}

function stopFollowing(id) {
  const entry = jobs.get(id);
  polled.delete(id);
  if (entry?.stream) {
    entry.stream.close();
    entry.stream = null;
    for (const waiting of polled) { if (liveCount() < MAX_LIVE_STREAMS) follow(waiting); }
  }
}

async function refresh(id) {
  try {
    show(await api.json(`/api/v1/jobs/${encodeURIComponent(id)}`));
    const entry = jobs.get(id);
    if (entry && !FINAL.has(entry.job.status) && !entry.stream) polled.add(id);
  } catch (e) {
    if (e.status === 404) removeRow(id);
  }
}

async function cancelJob(id, button) {
  button.disabled = true;
  try {
    show(await api.json(`/api/v1/jobs/${encodeURIComponent(id)}/cancel`, { method: 'POST' }));
  } catch (e) {
    button.disabled = false;
    flash(id, e instanceof api.ApiError ? e.display() : t('error_generic'));
  }
}

async function retryJob(id, button) {
  button.disabled = true;
  try {
    const job = await api.json(`/api/v1/jobs/${encodeURIComponent(id)}/retry`, { method: 'POST', headers: { Accept: 'application/json' } });
    show(job, true);
    follow(job.id);
  } catch (e) {
    button.disabled = false;
    flash(id, e instanceof api.ApiError ? e.display() : t('error_generic'));
  }
}

/** Asks before deleting: the row's actions become "delete for good?" with yes and no. */
function confirmDelete(entry, names) {
  const actions = entry.el.querySelector('.job-actions');
  const yes = el('button', { type: 'button', class: 'button danger small', 'data-action': 'delete-confirm', text: t('delete_confirm_yes') });
  const no = el('button', { type: 'button', class: 'button secondary small', 'data-action': 'delete-keep', text: t('delete_confirm_no') });
  // Deleting a job deletes the memory entries it recorded, unless it was created to keep them.
  const memory = entry.job.options?.keep_memory ? t('delete_keeps_memory') : t('delete_deletes_memory');
  const question = el('span', { class: 'delete-question', role: 'alert', text: `${t('delete_confirm', { name: names })} ${memory}` });
  yes.addEventListener('click', () => deleteJob(entry.job.id, yes));
  no.addEventListener('click', () => { render(entry); entry.el.querySelector('[data-action="delete"]')?.focus(); });
  actions.replaceChildren(question, yes, no);
  entry.confirming = true;
  no.focus();
}

async function deleteJob(id, button) {
  button.disabled = true;
  try {
    await api.request(`/api/v1/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
    removeRow(id);
  } catch (e) {
    if (e.status === 404) { removeRow(id); return; }
    button.disabled = false;
    flash(id, e instanceof api.ApiError ? e.display() : t('error_generic'));
  }
}

function flash(id, message) {
  const entry = jobs.get(id);
  entry?.el.append(el('p', { class: 'message error', role: 'alert', text: message }));
}

function removeRow(id) {
  stopFollowing(id);
  jobs.get(id)?.el.remove();
  jobs.delete(id);
  document.getElementById('jobs-empty').hidden = jobs.size > 0;
}

/**
 * Shows one page of the user's jobs as the service lists them (newest first; the next page
 * with "show more") and follows the unfinished ones.
 */
async function loadHistory(more = false) {
  const button = document.getElementById('jobs-more');
  const messages = document.getElementById('jobs-messages');
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (more && nextPage) params.set('before', nextPage);
  button.disabled = true;
  try {
    const body = await api.json(`/api/v1/jobs?${params}`);
    const list = body.jobs ?? [];
    for (const j of list) show(j);
    for (const j of list) follow(j.id);
    nextPage = body.next ?? null;
    showMessages(messages, []);
  } catch (e) {
    showMessages(messages, [t('jobs_load_failed', { reason: e instanceof api.ApiError ? e.display() : t('error_generic') })]);
  } finally {
    button.disabled = false;
    button.hidden = !nextPage;
  }
}

/**
 * Reads the first page of the list again: jobs started in another tab (or on another computer)
 * are added, jobs deleted elsewhere are removed. Known jobs are followed by their own stream.
 */
async function pollList() {
  if (document.hidden) return;
  // Only rows shown before asking can be missing from the answer because they were deleted.
  const before = new Set(jobs.keys());
  let body;
  try {
    body = await api.json(`/api/v1/jobs?limit=${PAGE_SIZE}`);
  } catch {
    return; // the next round tries again; an error of the first load is already shown
  }
  const list = body.jobs ?? [];
  const ids = new Set(list.map((j) => j.id));
  for (const j of [...list].reverse()) {
    if (jobs.has(j.id)) continue;
    show(j, true);
    follow(j.id);
  }
  // Rows the list should hold and does not: deleted elsewhere.
  const oldest = body.next ? Math.min(...list.map((j) => time(j.created_at) ?? Infinity)) : -Infinity;
  for (const [id, entry] of [...jobs]) {
    if (before.has(id) && !ids.has(id) && (entry.job.created ?? 0) >= oldest) removeRow(id);
  }
}

export async function initDocuments() {
  limits = await api.config();
  renderLimits();
  const input = document.getElementById('doc-files');
  const zone = document.getElementById('dropzone');
  input.addEventListener('change', () => { addFiles(input.files); input.value = ''; });
  for (const type of ['dragenter', 'dragover']) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add('dragging'); });
  }
  for (const type of ['dragleave', 'drop']) {
    zone.addEventListener(type, () => zone.classList.remove('dragging'));
  }
  zone.addEventListener('drop', (e) => { e.preventDefault(); addFiles(e.dataTransfer.files); });
  // A file dropped next to the zone must not make the browser navigate away from the page.
  window.addEventListener('dragover', (e) => e.preventDefault());
  window.addEventListener('drop', (e) => e.preventDefault());
  document.getElementById('doc-form').addEventListener('submit', submit);
  for (const id of ['doc-target', 'doc-source']) document.getElementById(id).addEventListener('change', () => renderSelection());
  document.getElementById('doc-clear').addEventListener('click', () => {
    selected = [];
    showMessages(document.getElementById('doc-messages'), []);
    renderSelection();
  });
  renderSelection();
  i18n.onChange(() => { renderLimits(); renderSelection(); for (const e of jobs.values()) render(e); });
  setInterval(() => { for (const e of jobs.values()) if (!FINAL.has(e.job.status)) renderTime(e); }, 1000);
  setInterval(() => { for (const id of [...polled]) refresh(id); }, POLL_MS);
  document.getElementById('jobs-more').addEventListener('click', () => loadHistory(true));
  await initUploadOptions();
  setInterval(pollList, LIST_POLL_MS);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) pollList(); });
  try { localStorage.removeItem(OLD_HISTORY_KEY); } catch { /* private mode */ }
  await loadHistory();
}
