// The quality report in a job's card: counts by flag and the worst segments with their source
// and target (GET /api/v1/jobs/{id}/report). Fetched when the reader opens it, once per job, so
// a list of many jobs costs nothing until then.
import { t, num } from './i18n.js';
import * as api from './api.js';
import { el } from './dom.js';

// How many of the worst segments the card lists (the JSON report has them all).
const WORST = 5;
// Flags in the order the card shows their counts: what needs a look first.
const ORDER = ['kept', 'number_missing', 'url_missing', 'glossary_term_missing', 'quiz_kept',
  'codes_repaired', 'same_as_source', 'length_off', 'memory_fuzzy', 'memory_exact'];

const reports = new Map(); // job id → Promise of the report

function load(jobId) {
  if (!reports.has(jobId)) {
    const promise = api.json(`/api/v1/jobs/${encodeURIComponent(jobId)}/report`);
    promise.catch(() => reports.delete(jobId)); // a failure is tried again at the next opening
    reports.set(jobId, promise);
  }
  return reports.get(jobId);
}

/** The name of a flag in the interface language (its key when the catalogue lacks it). */
function flagName(key) {
  return t(`flag_${key}`);
}

/** What one segment's flags say, short: "number missing: 12; model: m". */
function flagDetails(segment) {
  const parts = [];
  if (segment.kept) parts.push(`${flagName('kept')} (${segment.kept.message || segment.kept.code})`);
  for (const f of segment.flags ?? []) {
    if (f.flag === 'model') continue;
    const detail = f.value ?? f.url ?? f.term ?? (f.ratio_percent !== undefined ? `${num(f.ratio_percent)} % / ${num(f.expected_percent)} %` : null)
      ?? (f.score_percent !== undefined ? `${num(f.score_percent)} %` : null);
    parts.push(detail === null ? flagName(f.flag) : `${flagName(f.flag)} : ${detail}`);
  }
  return parts.join(' ; ');
}

function worst(report) {
  const all = [];
  for (const file of report.files ?? []) {
    for (const s of file.flagged ?? []) if (s.severity > 0) all.push({ file: file.name, ...s });
  }
  // Stable: ties stay in file and document order.
  return all.map((s, i) => [s, i]).sort((a, b) => b[0].severity - a[0].severity || a[1] - b[1])
    .slice(0, WORST).map(([s]) => s);
}

function renderReport(box, report, manyFiles) {
  const counts = Object.entries(report.counts ?? {})
    .sort((a, b) => (ORDER.indexOf(a[0]) + 1 || 99) - (ORDER.indexOf(b[0]) + 1 || 99));
  if (!counts.length) {
    box.replaceChildren(el('p', { class: 'hint', text: t('report_nothing', { count: num(report.segments ?? 0) }) }));
    return;
  }
  const list = el('ul', { class: 'report-counts' },
    ...counts.map(([key, n]) => el('li', {}, el('span', { text: flagName(key) }), ` : ${num(n)}`)));
  const rows = worst(report).map((s) => el('li', { class: 'report-segment' },
    el('p', { class: 'hint' }, manyFiles ? el('bdi', { text: s.file }) : null, manyFiles ? ' · ' : null,
      el('bdi', { text: s.location || t('segment_id', { id: s.id }) }), ` — ${flagDetails(s)}`),
    el('p', {}, el('span', { class: 'hint', text: `${t('report_source')} : ` }), el('bdi', { class: 'kept-text', text: s.source })),
    el('p', {}, el('span', { class: 'hint', text: `${t('report_target')} : ` }), el('bdi', { class: 'kept-text', text: s.target }))));
  box.replaceChildren(list,
    rows.length ? el('p', { text: t('report_worst') }) : null,
    rows.length ? el('ol', {}, ...rows) : null);
}

/** The card's quality section for a finished job: a closed `<details>` that loads the report
 * when opened. */
export function qualitySummary(jobId, fileCount = 1) {
  const box = el('div', { class: 'report-body' }, el('p', { class: 'hint', text: t('report_loading') }));
  const details = el('details', { class: 'job-report' }, el('summary', { text: t('report_summary') }), box);
  details.addEventListener('toggle', () => {
    if (!details.open) return;
    load(jobId).then((report) => renderReport(box, report, fileCount > 1), (error) => {
      box.replaceChildren(el('p', { class: 'message error', text: t('report_error', { reason: error?.message ?? '' }) }));
    });
  });
  return details;
}
