// The web interface in real headless Chromium against the server (see lib/harness.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { skipReason, startServer, launchBrowser, openPage, load, screenshot } from '../lib/harness.mjs';

const skip = skipReason() ?? false;
let server;
let browser;
const files = mkdtempSync(path.join(tmpdir(), 'tradia-browser-'));

function file(name, content) {
  const p = path.join(files, name);
  writeFileSync(p, content);
  return p;
}

/** Entries of a zip (central directory), as {name, data} for stored or deflated entries. */
async function unzip(buf) {
  const { inflateRawSync } = await import('node:zlib');
  const out = [];
  let end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'zip end record');
  let p = buf.readUInt32LE(end + 16);
  const count = buf.readUInt16LE(end + 10);
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString();
    const lNameLen = buf.readUInt16LE(local + 26);
    const lExtraLen = buf.readUInt16LE(local + 28);
    const raw = buf.subarray(local + 30 + lNameLen + lExtraLen, local + 30 + lNameLen + lExtraLen + csize);
    out.push({ name, data: method === 8 ? inflateRawSync(raw) : raw });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** How many jobs "my translations" lists now (the service's list: earlier tests' jobs too). */
function jobCount(page) { return page.locator('#jobs > li').count(); }

/**
 * The row of the job just uploaded: the list comes from the service, so it may already show
 * older jobs; the new one is put first once the upload is answered.
 */
async function uploadedJob(page, before) {
  await page.waitForFunction((n) => document.querySelectorAll('#jobs > li').length > n, before, { timeout: 30000 });
  const id = await page.locator('#jobs > li').first().getAttribute('data-job-id');
  return page.locator(`#jobs > li[data-job-id="${id}"]`);
}

function assertClean(seen) {
  assert.deepEqual(seen.foreign, [], `requests to other hosts: ${seen.foreign.join(', ')}`);
  assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
  assert.ok(seen.all.length > 5, 'requests were recorded');
}

before(async () => {
  if (skip) return;
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  // The files the tests wrote (one is larger than the upload limit).
  rmSync(files, { recursive: true, force: true });
});

/**
 * A Scenari (Opale) item, the format Tradia's users translate most: a title and a list of
 * paragraphs. The tests build their own documents; the real corpus is not needed here.
 */
function scenari(title, paras) {
  const para = (t) => `<sc:para xml:space="preserve">${t}</sc:para>`;
  return '<?xml version="1.0"?>\n<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:sp="http://www.utc.fr/ics/scenari/v3/primitive" xmlns:op="utc.fr:ics/opale3">'
    + `<op:expUc><op:uM><sp:title><op:title>${para(title)}</op:title></sp:title></op:uM>`
    + '<sp:div><op:expUcDiv><sp:pb><op:pb><sp:info><op:res><sp:txt><op:txt><sc:itemizedList>'
    + paras.map((p) => `<sc:listItem>${para(p)}</sc:listItem>`).join('')
    + '</sc:itemizedList></op:txt></sp:txt></op:res></sp:info></op:pb></sp:pb></op:expUcDiv></sp:div></op:expUc></sc:item>\n';
}

/** The texts of the paragraphs of a Scenari item, and its markup with the texts taken out. */
function scenariParts(xml) {
  const texts = [...xml.matchAll(/<sc:para[^>]*>([^<]*)<\/sc:para>/g)].map((m) => m[1]);
  return { texts, skeleton: xml.replace(/(<sc:para[^>]*>)[^<]*(<\/sc:para>)/g, '$1$2') };
}

const DOC_A = scenari('Accueil', ['Bonjour à tous.', 'La réunion commence à dix heures.', 'Merci de votre attention.']);
const DOC_B = scenari('Ordre du jour', ['Premier point.', 'Deuxième point.', 'Troisième point.', 'Quatrième point.']);

test('two files make one job with a progress bar each; both reach 100 % and the zip downloads', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const before = await jobCount(page);
  await page.selectOption('#doc-target', 'en');
  await page.setInputFiles('#doc-files', [file('accueil.xml', DOC_A), file('ordre-du-jour.xml', DOC_B)]);
  assert.equal(await page.locator('#doc-selected li').count(), 2);
  // Every state the job row shows, as the SSE events arrive.
  await page.evaluate(() => {
    window.__seen = new Set();
    const known = new Set([...document.querySelectorAll('#jobs > li')].map((li) => li.dataset.jobId));
    new MutationObserver(() => {
      const row = [...document.querySelectorAll('#jobs > li')].find((li) => !known.has(li.dataset.jobId));
      if (row) window.__seen.add(`${row.dataset.status} ${row.querySelector('[data-role="total"]')?.textContent ?? ''}`);
    }).observe(document.getElementById('jobs'), { childList: true, subtree: true, characterData: true });
  });
  await page.click('#doc-submit');
  const job = await uploadedJob(page, before);
  await job.waitFor();
  assert.equal(await jobCount(page), before + 1, 'one job for one upload');
  assert.equal(await job.locator('progress').count(), 2, 'a progress bar per file');
  // Progress is followed live: at least one intermediate value shows before the end.
  await job.locator('[data-role="status"]').filter({ hasText: 'Terminée' }).waitFor({ timeout: 30000 });
  const states = await page.evaluate(() => [...window.__seen]);
  assert.ok(states.some((v) => /^(queued|running)/.test(v)), `the row was shown before the end: ${states}`);
  assert.ok(states.length >= 3, `the row followed the job live: ${states.join(' | ')}`);
  const bars = await job.locator('progress').evaluateAll((els) => els.map((e) => [e.value, e.max]));
  assert.deepEqual(bars, [[100, 100], [100, 100]]);
  const pcts = await job.locator('[data-role="percent"]').allTextContents();
  assert.deepEqual(pcts.map((s) => s.replace(/\s/g, ' ')), ['100 %', '100 %']);
  const [download] = await Promise.all([page.waitForEvent('download'), job.locator('[data-action="download"]').click()]);
  const entries = await unzip(readFileSync(await download.path()));
  assert.deepEqual(entries.map((e) => e.name).sort(), ['accueil.xml', 'ordre-du-jour.xml']);
  for (const { name, data } of entries) {
    const source = scenariParts(name === 'accueil.xml' ? DOC_A : DOC_B);
    const result = scenariParts(data.toString('utf8'));
    assert.equal(result.skeleton, source.skeleton, `${name}: the document's structure is intact`);
    assert.equal(result.texts.length, source.texts.length);
    result.texts.forEach((text, i) => {
      assert.ok(text.trim().length > 0, `${name} paragraph ${i + 1} not empty`);
      assert.notEqual(text, source.texts[i], `${name} paragraph ${i + 1} translated`);
    });
  }
  await screenshot(page, 'fr-documents');
  assertClean(seen);
  await context.close();
});

test('text translation streams token by token', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server, '#text');
  assert.equal(await page.isVisible('#panel-text'), true);
  await page.selectOption('#text-target-lang', 'en');
  const text = 'Bonjour à toutes et à tous, bienvenue dans cette formation sur la traduction automatique locale.';
  await page.fill('#text-source', text);
  assert.match(await page.textContent("#text-count"), new RegExp(`^${[...text].length}\\b`));
  // Record every distinct state of the output while it streams.
  await page.evaluate(() => {
    window.__states = [];
    const out = document.getElementById('text-output');
    new MutationObserver(() => window.__states.push(out.textContent)).observe(out, { childList: true, characterData: true, subtree: true });
  });
  await page.click('#text-submit');
  await page.waitForFunction(() => document.getElementById('text-output').getAttribute('aria-busy') === 'false' && document.getElementById('text-output').textContent.length > 0, null, { timeout: 30000 });
  const states = await page.evaluate(() => window.__states.filter((s) => s.length));
  const final = await page.textContent('#text-output');
  assert.ok(states.length >= 3, `expected several partial states, got ${states.length}`);
  assert.ok(states.some((s) => s.length > 0 && s.length < final.length), 'a partial translation was shown');
  assert.notEqual(final, text);
  assert.match(await page.textContent('#text-detected'), /français|French/i);
  await screenshot(page, 'fr-text');
  assertClean(seen);
  await context.close();
});

test('a running job can be cancelled', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const long = scenari('Un long document', Array.from({ length: 120 }, (_, i) => `Phrase numéro ${i + 1} du long document, qui prend du temps à traduire.`));
  const before = await jobCount(page);
  await page.setInputFiles('#doc-files', [file('slow-long.xml', long)]);
  await page.click('#doc-submit');
  const job = await uploadedJob(page, before);
  await job.locator('[data-role="status"]').filter({ hasText: 'En cours' }).waitFor({ timeout: 20000 });
  await job.locator('[data-action="cancel"]').click();
  await job.locator('[data-role="status"]').filter({ hasText: 'Annulée' }).waitFor({ timeout: 10000 });
  assert.equal(await job.locator('[data-action="download"]').count(), 0, 'no download for a cancelled job');
  const value = await job.locator('progress').evaluate((e) => e.value);
  assert.ok(value < 100, `cancelled before the end (${value} %)`);
  assertClean(seen);
  await context.close();
});

test('history survives a reload: it comes from the service', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const before = await jobCount(page);
  await page.setInputFiles('#doc-files', [file('histoire.xml', scenari('Histoire', ['Il était une fois.', 'Fin.']))]);
  await page.click('#doc-submit');
  const job = await uploadedJob(page, before);
  const id = await job.getAttribute('data-job-id');
  await job.locator('[data-role="status"]').filter({ hasText: 'Terminée' }).waitFor({ timeout: 30000 });
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  const row = page.locator(`#jobs > li[data-job-id="${id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /histoire\.xml/);
  assert.match(await row.locator('[data-role="status"]').textContent(), /Terminée/);
  assert.equal(await row.locator('[data-action="download"]').count(), 1);
  assert.equal(await page.evaluate(() => localStorage.getItem('tradia.jobs')), null, 'no job ids kept in the browser');
  // Another browser (a fresh profile: nothing in its storage) lists the same job.
  const other = await openPage(browser, server);
  await load(other.page, server);
  await other.page.locator(`#jobs > li[data-job-id="${id}"]`).waitFor();
  assertClean(other.seen);
  await other.context.close();
  assertClean(seen);
  await context.close();
});

test('rejected files get clear messages before and after upload', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const before = await jobCount(page);
  const limit = await page.evaluate(async () => (await import('/assets/js/api.js')).config());
  await page.setInputFiles('#doc-files', [
    file('image.exe', 'MZ'),
    file('vide.txt', ''),
    file('gros.txt', Buffer.alloc(limit.maxUploadBytes + 1024, 'a')),
  ]);
  const messages = await page.locator('#doc-messages p').allTextContents();
  if (limit.extensions) assert.ok(messages.some((m) => /image\.exe.*\.exe/.test(m)), messages.join('|'));
  assert.ok(messages.some((m) => /vide\.txt.*vide/.test(m)), messages.join('|'));
  assert.ok(messages.some((m) => /gros\.txt.*volumineux/.test(m)), messages.join('|'));
  // Without a list of formats from the server, only the server can judge the .exe file.
  assert.equal(await page.locator('#doc-selected li').count(), limit.extensions ? 0 : 1, 'only what the browser cannot judge was kept');
  if (await page.isVisible('#doc-clear')) await page.click('#doc-clear');
  // A file the browser cannot judge: the server refuses it, and its error code is shown as the
  // catalogue's sentence (not the raw code), with the server's own words as a detail.
  await page.setInputFiles('#doc-files', [file('abime.docx', 'not a zip at all')]);
  await page.click('#doc-submit');
  const refused = page.locator('#doc-messages p').filter({ hasText: 'Envoi refusé' });
  await refused.waitFor();
  const text = await refused.textContent();
  assert.doesNotMatch(text, /Erreur :|[a-z]+_[a-z]+/, `a sentence, not a code: ${text}`);
  assert.match(await page.locator('#doc-messages').textContent(), /abime\.docx/, await page.locator('#doc-messages').textContent());
  assert.equal(await jobCount(page), before, 'no job for a refused upload');
  assertClean(seen);
  await context.close();
});

test('tabs work with the keyboard', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  await page.focus('#tab-documents');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-text');
  assert.equal(await page.getAttribute('#tab-text', 'aria-selected'), 'true');
  assert.equal(await page.isVisible('#panel-text'), true);
  assert.equal(await page.isVisible('#panel-documents'), false);
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-summary');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-documents');
  assert.equal(await page.getAttribute('#tab-documents', 'tabindex'), '0');
  assert.equal(await page.getAttribute('#tab-text', 'tabindex'), '-1');
  assertClean(seen);
  await context.close();
});

test('the assistants stream their answers: correction, reformulation, meeting summary', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  const cases = [
    ['correct', 'Les élèves ont rendu ces devoirs en retard, malgré les rappel du professeur.', ['Texte corrigé', 'Explications']],
    ['reformulate', 'La réunion a été décidée de se tenir le mardi par le conseil qui a décidé.', ['Texte reformulé', 'Passages modifiés']],
    ['summary', 'Réunion équipe pédagogique 12/11. Présents : Claire, Karim, Sofia. Calendrier des examens adopté. Karim envoie le planning avant vendredi. Sofia prépare la salle.', ['Résumé', 'Décisions', 'Actions à mener']],
  ];
  for (const [kind, text, headings] of cases) {
    await load(page, server, `#${kind}`);
    await page.fill(`#${kind}-input`, text);
    await page.evaluate((k) => {
      window.__streamed = 0;
      const result = document.querySelector(`#panel-${k} [data-assist-result]`);
      new MutationObserver(() => { if (result.querySelector('[data-role="stream"]')?.textContent) window.__streamed += 1; })
        .observe(result, { childList: true, characterData: true, subtree: true });
    }, kind);
    await page.click(`#panel-${kind} button[type="submit"]`);
    const result = page.locator(`#panel-${kind} [data-assist-result]`);
    for (const h of headings) await result.locator('h3').filter({ hasText: h }).waitFor({ timeout: 30000 });
    assert.ok((await result.locator('.result-text').first().textContent()).trim().length > 0, `${kind}: a result text`);
    assert.ok(await page.evaluate(() => window.__streamed) >= 2, `${kind}: tokens were shown as they came`);
    await screenshot(page, `fr-${kind}-result`);
  }
  // A meeting summary from a photo of the notes (multipart upload with an `image` part).
  await page.fill('#summary-input', '');
  const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
  await page.setInputFiles('#summary-photo', [file('notes.png', png)]);
  assert.equal(await page.textContent('#summary-photo-name'), 'notes.png');
  assert.equal(await page.isVisible('#panel-summary [data-assist-preview]'), true, 'the photo is previewed');
  await page.click('#panel-summary button[type="submit"]');
  const photoResult = page.locator('#panel-summary [data-assist-result]');
  await photoResult.locator('h3').filter({ hasText: 'Décisions' }).waitFor({ timeout: 30000 });
  assert.deepEqual(await page.locator('#panel-summary [data-assist-messages] p').allTextContents(), []);
  assertClean(seen);
  await context.close();
});

test('every control has an accessible name', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const unnamed = await page.evaluate(() => {
    const name = (el) => {
      if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
      const by = el.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (el.labels?.length) return [...el.labels].map((l) => l.textContent).join(' ').trim();
      return el.textContent.trim();
    };
    return [...document.querySelectorAll('button, select, textarea, input, a[href], [role="tab"]')]
      .filter((el) => !name(el)).map((el) => el.outerHTML.slice(0, 120));
  });
  assert.deepEqual(unnamed, []);
  assert.equal(await page.locator('[role="tabpanel"]').count(), 5);
  for (const panel of await page.locator('[role="tabpanel"]').all()) {
    const tab = await panel.getAttribute('aria-labelledby');
    assert.equal(await page.getAttribute(`#${tab}`, 'aria-controls'), await panel.getAttribute('id'));
  }
  assertClean(seen);
  await context.close();
});

test('Arabic interface is right to left; screenshots of every page in French and Arabic', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  assert.equal(await page.getAttribute('html', 'dir'), 'ltr');
  for (const tab of ['documents', 'text', 'correct', 'reformulate', 'summary']) {
    await page.click(`#tab-${tab}`);
    await screenshot(page, `fr-tab-${tab}`);
  }
  await page.click('#tab-documents');
  await page.selectOption('#ui-lang', 'ar');
  await page.waitForFunction(() => document.documentElement.dir === 'rtl');
  assert.equal(await page.getAttribute('html', 'lang'), 'ar');
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).direction), 'rtl');
  assert.equal(await page.textContent('#tab-documents'), 'الوثائق');
  // A right-to-left target language lays out the translation pane right to left.
  await page.click('#tab-text');
  await page.selectOption('#text-source-lang', 'fr');
  await page.selectOption('#text-target-lang', 'ar');
  await page.waitForFunction(() => document.getElementById('text-output').dir === 'rtl');
  assert.equal(await page.getAttribute('#text-source', 'dir'), 'ltr');
  await page.fill('#text-source', 'Le conseil de classe aura lieu jeudi à dix-sept heures.');
  await page.click('#text-submit');
  await page.waitForFunction(() => document.getElementById('text-output').getAttribute('aria-busy') === 'false' && document.getElementById('text-output').textContent.length > 0, null, { timeout: 30000 });
  // A finished job in the list, so the Arabic documents page shows a row with its bars.
  await page.click('#tab-documents');
  const before = await jobCount(page);
  await page.setInputFiles('#doc-files', [file('keep-rapport.xml', scenari('Rapport annuel', ['Bilan financier.', 'Perspectives.'])), file('annexe.xml', scenari('Annexe', ['Sources.']))]);
  await page.click('#doc-submit');
  const job = await uploadedJob(page, before);
  await job.locator('[data-role="status"]').filter({ hasText: 'منتهية' }).waitFor({ timeout: 30000 });
  if (server.kind === 'mock') {
    // The mock keeps the first segment of a "keep" file in the source language.
    await job.locator('details.job-kept summary').click();
    assert.match(await job.locator('details.job-kept li').first().textContent(), /keep-rapport\.xml.*1/);
  }
  for (const tab of ['documents', 'text', 'correct', 'reformulate', 'summary']) {
    await page.click(`#tab-${tab}`);
    await screenshot(page, `ar-tab-${tab}`);
  }
  // The choice is remembered.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assertClean(seen);
  await context.close();
});

test('an Arabic browser gets the Arabic interface; phones get one column', { skip }, async () => {
  const { context, page, seen } = await openPage(browser, server, { locale: 'ar-MA', viewport: { width: 390, height: 844 } });
  await load(page, server, '#text');
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  const widths = await page.evaluate(() => [...document.querySelectorAll('.pane')].map((p) => p.getBoundingClientRect().width));
  assert.ok(widths.every((w) => w > 300), `panes stacked on a phone: ${widths}`);
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no horizontal scroll');
  await screenshot(page, 'ar-phone-text');
  await page.click('#tab-documents');
  await screenshot(page, 'ar-phone-documents');
  assertClean(seen);
  await context.close();
});

test('the status shows a degraded service when the LLM backend is unreachable', { skip }, async () => {
  const down = await startServer({ llmReachable: false });
  try {
    const { context, page, seen } = await openPage(browser, down);
    await load(page, down);
    await page.waitForSelector('#status[data-state="degraded"]', { timeout: 30000 });
    assert.match(await page.textContent('#status-text'), /dégradé/);
    // The header speaks French, and so does the tooltip: /healthz's stable reason code
    // (`llm_unreachable`) in the interface language, never the backend's own English words.
    assert.doesNotMatch(await page.textContent('#status'), /unreachable|refused|http:\/\//i);
    assert.match(await page.getAttribute('#status', 'title'), /modèle de traduction ne répond pas/);
    // Healthy service, for contrast: the shared server of the other tests.
    const ok = await openPage(browser, server);
    await load(ok.page, server);
    await ok.page.waitForSelector('#status[data-state="healthy"]');
    assert.match(await ok.page.textContent('#status-text'), /disponible/);
    // Behind the simulator the service is a demonstration, and says so instead of a model name.
    assert.match(await ok.page.textContent('#status-model'), /Démonstration/);
    assert.equal(await ok.page.isVisible('#demo-banner'), true, 'the demo banner is shown');
    await screenshot(page, 'fr-status-degraded');
    assertClean(seen);
    assertClean(ok.seen);
    await ok.context.close();
    await context.close();
  } finally {
    await down.close();
  }
});
