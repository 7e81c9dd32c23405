// The "memory and glossaries" view and the upload form's options.
//
// The view: how many entries the user's translation memory holds, its TMX export and import,
// purging it (all of it after a confirmation, or the entries one job recorded), what the service
// keeps and deletes (the privacy notes), and the user's glossaries (list, CSV/TSV/TBX import,
// export, deletion after a confirmation). The upload form's options: which memory a job reads
// and writes (off, own, the user's teams, one team), keeping its entries when it is deleted, the
// glossary (the user's and their teams'), formality, instructions and the brief (what the
// documents are; left empty, each file's own title is used and the job shows it).
import * as i18n from './i18n.js';
import { t, num } from './i18n.js';
import * as api from './api.js';
import * as auth from './auth.js';
import { el, showErrors } from './dom.js';

const $ = (id) => document.getElementById(id);
let glossaries = [];
let confirmingGlossary = null; // id of the glossary whose deletion awaits a confirmation
let purgeConfirming = false;
let count = null;
let note = null; // () => string: the last action's outcome, in the interface language

function tell(text) {
  note = text;
  $('memory-messages').replaceChildren(...(text ? [el('p', { class: 'message ok', role: 'status', text: text() })] : []));
}

function fail(box, e) {
  showErrors(box, [e instanceof api.ApiError ? e.display() : t('error_generic')]);
}

function renderCount() {
  $('memory-count').textContent = count === null ? '' : t('memory_count', { count: num(count) });
  $('memory-count').dataset.count = count === null ? '' : String(count);
}

async function loadCount() {
  try {
    const summary = await api.json('/api/v1/memory');
    count = summary.entries;
  } catch (e) {
    count = null;
    fail($('memory-messages'), e);
  }
  renderCount();
}

function renderPurge() {
  const box = $('memory-purge-actions');
  if (!purgeConfirming) {
    const purge = el('button', { type: 'button', class: 'button danger', id: 'memory-purge-all', text: t('memory_purge_all') });
    purge.addEventListener('click', () => { purgeConfirming = true; renderPurge(); $('memory-purge-no').focus(); });
    box.replaceChildren(purge);
    return;
  }
  const question = el('span', { class: 'delete-question', role: 'alert', text: t('memory_purge_confirm') });
  const yes = el('button', { type: 'button', class: 'button danger small', id: 'memory-purge-yes', text: t('delete_confirm_yes') });
  const no = el('button', { type: 'button', class: 'button secondary small', id: 'memory-purge-no', text: t('delete_confirm_no') });
  yes.addEventListener('click', () => purge(null, yes));
  no.addEventListener('click', () => { purgeConfirming = false; renderPurge(); $('memory-purge-all').focus(); });
  box.replaceChildren(question, yes, no);
}

async function purge(job, button) {
  button.disabled = true;
  try {
    const path = job ? `/api/v1/memory?job=${encodeURIComponent(job)}` : '/api/v1/memory';
    const { deleted } = await api.json(path, { method: 'DELETE' });
    showErrors($('memory-messages'), []);
    tell(() => t('memory_purged', { count: num(deleted) }));
    purgeConfirming = false;
    renderPurge();
    await loadCount();
  } catch (e) {
    fail($('memory-messages'), e);
  } finally {
    button.disabled = false;
  }
}

async function importTmx(file) {
  try {
    const body = await api.json('/api/v1/memory/tmx', {
      method: 'POST', headers: { 'Content-Type': 'application/x-tmx+xml' }, body: file,
    });
    showErrors($('memory-messages'), []);
    tell(() => t('memory_imported', { count: num(body.imported), skipped: num(body.skipped) }));
    await loadCount();
  } catch (e) {
    fail($('memory-messages'), e);
  }
}

// ---- Glossaries ------------------------------------------------------------------------------

function pairText(g) {
  return `${i18n.languageName(g.source_lang, g.source_lang)} → ${i18n.languageName(g.target_lang, g.target_lang)}`;
}

function glossaryRow(g) {
  const actions = el('td', { class: 'row-actions' });
  if (confirmingGlossary === g.id) {
    const yes = el('button', { type: 'button', class: 'button danger small', 'data-action': 'glossary-delete-confirm', text: t('delete_confirm_yes') });
    const no = el('button', { type: 'button', class: 'button secondary small', 'data-action': 'glossary-delete-keep', text: t('delete_confirm_no') });
    yes.addEventListener('click', () => deleteGlossary(g.id, yes));
    no.addEventListener('click', () => { confirmingGlossary = null; renderGlossaries(); });
    actions.append(el('span', { class: 'delete-question', role: 'alert', text: t('glossary_delete_confirm', { name: g.name }) }), yes, no);
  } else {
    for (const format of ['csv', 'tsv', 'tbx']) {
      actions.append(el('a', {
        class: 'button link small', href: `/api/v1/glossaries/${encodeURIComponent(g.id)}/export?format=${format}`,
        download: `${g.name}.${format}`, 'data-action': `glossary-export-${format}`, text: format.toUpperCase(),
        'aria-label': t('glossary_export', { name: g.name, format: format.toUpperCase() }),
      }));
    }
    const remove = el('button', { type: 'button', class: 'button link small', 'data-action': 'glossary-delete', text: t('delete'), 'aria-label': t('glossary_delete', { name: g.name }) });
    remove.addEventListener('click', () => { confirmingGlossary = g.id; renderGlossaries(); });
    actions.append(remove);
  }
  const name = el('td', {}, el('bdi', { text: g.name }));
  if (g.is_default) name.append(' ', el('span', { class: 'badge', text: t('glossary_default_badge') }));
  return el('tr', { 'data-glossary-id': g.id }, name, el('td', { text: pairText(g) }),
    el('td', { class: 'num', text: num(g.entry_count) }), actions);
}

function renderGlossaries() {
  $('glossaries').replaceChildren(...glossaries.map(glossaryRow));
  $('glossaries-table').hidden = !glossaries.length;
  $('glossaries-empty').hidden = glossaries.length > 0;
  renderGlossaryChoice();
}

async function loadGlossaries() {
  try {
    glossaries = (await api.json('/api/v1/glossaries')).glossaries ?? [];
  } catch (e) {
    glossaries = [];
    fail($('glossary-messages'), e);
  }
  renderGlossaries();
}

async function deleteGlossary(id, button) {
  button.disabled = true;
  try {
    await api.request(`/api/v1/glossaries/${encodeURIComponent(id)}`, { method: 'DELETE' });
    confirmingGlossary = null;
    await loadGlossaries();
  } catch (e) {
    button.disabled = false;
    fail($('glossary-messages'), e);
  }
}

function formatOf(name) {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  return ['csv', 'tsv', 'tbx'].includes(ext) ? ext : null;
}

async function importGlossary(event) {
  event.preventDefault();
  const box = $('glossary-messages');
  const file = $('glossary-file').files[0];
  const name = $('glossary-name').value.trim();
  if (!name || !file) { showErrors(box, [t('glossary_import_missing')]); return; }
  const format = formatOf(file.name);
  if (!format) { showErrors(box, [t('glossary_file_format')]); return; }
  const query = new URLSearchParams({
    name, format, source_lang: $('glossary-source').value, target_lang: $('glossary-target').value,
    is_default: String($('glossary-default').checked),
  });
  const button = $('glossary-import-submit');
  button.disabled = true;
  try {
    await api.json(`/api/v1/glossaries/import?${query}`, { method: 'POST', body: await file.text() });
    showErrors(box, []);
    event.target.reset();
    await loadGlossaries();
  } catch (e) {
    fail(box, e);
  } finally {
    button.disabled = false;
  }
}

// ---- The upload form's options ---------------------------------------------------------------

/** The glossary picker: "the default for the pair" first, then each glossary with its pair. */
function renderGlossaryChoice() {
  const select = $('doc-glossary');
  const previous = select.value;
  select.replaceChildren(new Option(t('glossary_default'), ''));
  for (const g of glossaries) select.append(new Option(`${g.name} (${pairText(g)})`, g.id));
  if ([...select.options].some((o) => o.value === previous)) select.value = previous;
}

/** The memory picker: off, own, all teams, then each team of the user's. */
function renderMemoryChoice() {
  const select = $('doc-memory');
  const previous = select.value || 'own';
  for (const option of [...select.options]) if (option.value.startsWith('team:')) option.remove();
  for (const team of auth.user()?.teams ?? []) {
    if (team.id) select.append(new Option(t('memory_scope_team', { name: team.name }), `team:${team.id}`));
  }
  select.value = [...select.options].some((o) => o.value === previous) ? previous : 'own';
}

/** The name of one of the user's glossaries, or null. */
export function glossaryName(id) {
  return glossaries.find((g) => g.id === id)?.name ?? null;
}

/** Adds the chosen options to an upload's form data (only what differs from the defaults). */
export function appendUploadOptions(form) {
  const memory = $('doc-memory').value;
  if (memory && memory !== 'own') form.append('memory', memory);
  if ($('doc-keep-memory').checked) form.append('keep_memory', 'true');
  const glossary = $('doc-glossary').value;
  if (glossary) form.append('glossary_id', glossary);
  const formality = $('doc-formality').value;
  if (formality && formality !== 'default') form.append('formality', formality);
  const instructions = $('doc-instructions').value.trim();
  if (instructions) form.append('instructions', instructions);
  const brief = $('doc-brief').value.trim();
  if (brief) form.append('brief', brief);
}

/** Loads what the upload options list (glossaries, teams). */
export async function initUploadOptions() {
  auth.onUser(renderMemoryChoice);
  renderMemoryChoice();
  await loadGlossaries();
}

export function initMemory() {
  $('memory-import').addEventListener('change', (e) => {
    const file = e.target.files[0];
    e.target.value = '';
    if (file) importTmx(file);
  });
  $('memory-purge-job-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const job = $('memory-purge-job').value.trim();
    if (!job) { showErrors($('memory-messages'), [t('memory_job_missing')]); return; }
    purge(job, $('memory-purge-job-submit'));
  });
  $('glossary-import-form').addEventListener('submit', importGlossary);
  renderPurge();
  i18n.onChange(() => { renderCount(); renderPurge(); renderGlossaries(); renderMemoryChoice(); tell(note); });
}

/** Shows the view with fresh figures. */
export async function showMemory() {
  await Promise.all([loadCount(), loadGlossaries()]);
}
