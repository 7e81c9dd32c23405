// The interface as a daily user finds it (issue 16): limits from the service, per-file stages
// in order with a total that does not move, the model's outage said in the user's language,
// downloads named for their language, a job list live across tabs, retry, a confirmed delete,
// typed text kept across reloads. Real Chromium against the real service and simulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { skipReason, startServer, launchBrowser, openPage, load, screenshot } from '../lib/harness.mjs';
import { scenari, zip, unzip } from '../lib/documents.mjs';

const skip = skipReason() ?? false;
// The mock server has no stages, notices or simulator to stop: these tests need the real one.
const real = (process.env.TRADIA_BROWSER_SERVER ?? 'real') === 'real';
const skipReal = skip || (!real && 'needs the real service');
let server;
let browser;
const files = mkdtempSync(path.join(tmpdir(), 'tradia-daily-'));

function file(name, content) {
  const p = path.join(files, name);
  writeFileSync(p, content);
  return p;
}

const paragraphs = (n, what) => Array.from({ length: n }, (_, i) => `${what} : phrase numéro ${i + 1}, qui dit quelque chose de simple.`);

/** The row of the job the page shows first once more rows than `count` are listed. */
async function newJob(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('#jobs > li').length > n, count, { timeout: 30000 });
  const id = await page.locator('#jobs > li').first().getAttribute('data-job-id');
  return page.locator(`#jobs > li[data-job-id="${id}"]`);
}

function jobCount(page) { return page.locator('#jobs > li').count(); }

async function upload(page, paths, target = 'en') {
  const count = await jobCount(page);
  await page.selectOption('#doc-target', target);
  await page.setInputFiles('#doc-files', paths);
  await page.click('#doc-submit');
  return newJob(page, count);
}

function done(job) {
  return job.locator('[data-role="status"]').filter({ hasText: 'Terminée' }).waitFor({ timeout: 60000 });
}

before(async () => {
  if (skipReal) return;
  // A slowed simulator (real time): each file's stages last long enough to be seen.
  server = await startServer({ simTimeScale: 1 });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  rmSync(files, { recursive: true, force: true });
});

test('limits come from the service: hint, picker filter, size refused before upload', { skip: skipReal }, async () => {
  const small = await startServer({ maxUploadMb: 1 });
  try {
    const { context, page, seen } = await openPage(browser, small);
    await load(page, small);
    assert.match(await page.textContent('#doc-limits'), /Jusqu'à 1 Mo par envoi/);
    const accept = (await page.getAttribute('#doc-files', 'accept')).split(',');
    for (const ext of ['.docx', '.xml', '.po', '.srt', '.scar']) assert.ok(accept.includes(ext), `${ext} in ${accept}`);
    assert.ok(!accept.includes('.png'), 'images are not offered');
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/v1/jobs')) posts.push(r.url()); });
    await page.setInputFiles('#doc-files', [file('gros.txt', Buffer.alloc(3 * 1024 * 1024, 'a')), file('photo.png', 'PNG')]);
    const messages = await page.locator('#doc-messages p').allTextContents();
    assert.ok(messages.some((m) => /gros\.txt.*3 Mo.*maximum 1 Mo/.test(m)), messages.join(' | '));
    assert.ok(messages.some((m) => /photo\.png.*\.png/.test(m)), messages.join(' | '));
    assert.equal(await page.locator('#doc-selected li').count(), 0);
    assert.deepEqual(posts, [], 'nothing was uploaded');
    // Small sizes in kB, not "0 Mo".
    await page.setInputFiles('#doc-files', [file('petit.xml', scenari('Petit', ['Bonjour.']))]);
    assert.match(await page.textContent('#doc-selected'), /\d+ ko/);
    await context.close();
    assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
  } finally {
    await small.close();
  }
});

test('three files: each file\'s stages follow in order, the total does not change once translation started', { skip: skipReal }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  await page.evaluate(() => {
    window.__stages = {};
    window.__totals = [];
    const known = new Set([...document.querySelectorAll('#jobs > li')].map((li) => li.dataset.jobId));
    const record = () => {
      const row = [...document.querySelectorAll('#jobs > li')].find((li) => !known.has(li.dataset.jobId));
      if (!row) return;
      let translating = false;
      for (const f of row.querySelectorAll('li.job-file')) {
        const list = (window.__stages[f.dataset.file] ??= []);
        if (list.at(-1) !== f.dataset.stage) list.push(f.dataset.stage);
        if (f.dataset.stage === 'translating' && /[1-9]/.test(f.querySelector('[data-role="stage"]').textContent.split('/')[0])) translating = true;
      }
      const total = row.querySelector('[data-role="total"]')?.textContent.match(/\/\s*([\d\s\u202f]+)/)?.[1]?.replace(/\D/g, '');
      if (translating && total) window.__totals.push(Number(total));
    };
    new MutationObserver(record).observe(document.getElementById('jobs'), { childList: true, subtree: true, characterData: true, attributes: true });
  });
  const names = ['un.xml', 'deux.xml', 'trois.xml'];
  const job = await upload(page, names.map((n, i) => file(n, scenari(`Titre ${i + 1}`, paragraphs(4 + i, `Fichier ${i + 1}`)))));
  await done(job);
  const stages = await page.evaluate(() => window.__stages);
  const order = ['waiting', 'reading', 'translating', 'merging', 'done'];
  for (const name of names) {
    const seenStages = stages[name] ?? [];
    const positions = seenStages.map((s) => order.indexOf(s));
    assert.ok(positions.every((p) => p >= 0), `${name}: known stages only: ${seenStages}`);
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, `${name}: in order: ${seenStages}`);
    assert.equal(seenStages[0], 'waiting', `${name} waits first: ${seenStages}`);
    assert.equal(seenStages.at(-1), 'done', `${name} ends done: ${seenStages}`);
    assert.ok(seenStages.includes('translating'), `${name} was seen translating: ${seenStages}`);
  }
  const totals = await page.evaluate(() => window.__totals);
  assert.ok(totals.length > 0, 'the total was seen during translation');
  assert.equal(new Set(totals).size, 1, `the total never changed: ${totals}`);
  assert.equal(totals[0], 1 + 4 + 1 + 5 + 1 + 6, 'every segment of the three files');
  // Each file names its size (kB below 1 MB).
  assert.match(await job.locator('li.job-file').first().textContent(), /\d+ ko/);
  await screenshot(page, 'fr-three-files-done');
  assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
  await context.close();
});

test('downloads are named for their language; a Scenari archive keeps its entries', { skip: skipReal }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const item = await upload(page, [file('cours.xml', scenari('Le cours', ['Bonjour à tous.', 'Voici le cours.']))]);
  await done(item);
  const [single] = await Promise.all([page.waitForEvent('download'), item.locator('[data-action="download"]').click()]);
  assert.equal(single.suggestedFilename(), 'cours.en.xml');
  const href = await item.locator('[data-action="download"]').getAttribute('href');
  const type = await page.evaluate(async (url) => (await fetch(url)).headers.get('content-type'), href);
  assert.equal(type, 'application/xml');

  const entries = [
    { name: 'module/intro.xml', data: scenari('Introduction', ['Bienvenue dans ce module.', 'Bonne lecture.']) },
    { name: 'module/image.png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4]) },
    { name: 'module/suite.xml', data: scenari('La suite', ['Deuxième partie du module.']) },
  ];
  const archive = await upload(page, [file('cours.scar', zip(entries))]);
  await done(archive);
  const [scar] = await Promise.all([page.waitForEvent('download'), archive.locator('[data-action="download"]').click()]);
  assert.equal(scar.suggestedFilename(), 'cours.en.scar');
  const out = unzip(readFileSync(await scar.path()));
  assert.deepEqual(out.map((e) => e.name), entries.map((e) => e.name), 'entry names and order unchanged');
  assert.deepEqual(out[1].data, entries[1].data, 'the image is untouched');
  assert.notEqual(out[0].data.toString(), entries[0].data, 'the item is translated');
  assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
  await context.close();
});

test('a file already in the target language is copied unchanged and flagged', { skip: skipReal }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const english = scenari('The meeting', ['The meeting starts at ten in the morning.', 'Please bring your notes and your questions.', 'Thank you for your attention and see you soon.']);
  // The form warns before anything is uploaded (a sample of each text file is detected).
  const count = await jobCount(page);
  await page.selectOption('#doc-target', 'en');
  await page.setInputFiles('#doc-files', [file('meeting.xml', english), file('reunion.xml', scenari('La réunion', ['La réunion commence à dix heures du matin.', 'Apportez vos notes et vos questions, merci.']))]);
  const warning = page.locator('#doc-selected li', { hasText: 'meeting.xml' }).locator('[data-role="same-language"]');
  await warning.waitFor({ timeout: 10000 });
  assert.match(await warning.textContent(), /déjà être en anglais/);
  assert.equal(await page.locator('#doc-selected li', { hasText: 'reunion.xml' }).locator('[data-role="same-language"]').count(), 0);
  await page.selectOption('#doc-target', 'ar');
  assert.equal(await page.locator('#doc-selected [data-role="same-language"]').count(), 0, 'another target: no warning');
  await page.selectOption('#doc-target', 'en');
  await page.click('#doc-submit');
  const job = await newJob(page, count);
  await done(job);
  const copied = job.locator('li.job-file[data-file="meeting.xml"] [data-role="copied"]');
  assert.match(await copied.textContent(), /déjà en anglais/i);
  assert.equal(await job.locator('li.job-file[data-file="reunion.xml"] [data-role="copied"]').count(), 0);
  // Each file names its own language when they differ.
  assert.match(await job.locator('.job-meta').textContent(), /anglais.*français|français.*anglais/);
  assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
  await context.close();
});

test('two tabs: a job started in one appears in the other without a reload', { skip: skipReal }, async () => {
  const { context, page: first, seen } = await openPage(browser, server);
  const second = await context.newPage();
  await load(first, server);
  await load(second, server);
  const job = await upload(first, [file('onglets.xml', scenari('Deux onglets', ['Bonjour.']))]);
  const id = await job.getAttribute('data-job-id');
  await second.locator(`#jobs > li[data-job-id="${id}"]`).waitFor({ timeout: 15000 });
  await second.locator(`#jobs > li[data-job-id="${id}"] [data-role="status"]`).filter({ hasText: 'Terminée' }).waitFor({ timeout: 60000 });
  assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
  await context.close();
});

test('retry, confirmed delete, typed text kept across a reload', { skip: skipReal }, async () => {
  const { context, page, seen } = await openPage(browser, server);
  await load(page, server);
  const job = await upload(page, [file('relance.xml', scenari('Relance', paragraphs(40, 'Relance')))]);
  await job.locator('[data-action="cancel"]').click();
  await job.locator('[data-role="status"]').filter({ hasText: 'Annulée' }).waitFor({ timeout: 20000 });
  const count = await jobCount(page);
  await job.locator('[data-action="retry"]').click();
  const again = await newJob(page, count);
  assert.notEqual(await again.getAttribute('data-job-id'), await job.getAttribute('data-job-id'));
  assert.match(await again.locator('.job-names').textContent(), /relance\.xml/);
  await again.locator('[data-action="cancel"]').click();
  await again.locator('[data-role="status"]').filter({ hasText: 'Annulée' }).waitFor({ timeout: 20000 });
  // Delete asks first; "keep" keeps.
  await again.locator('[data-action="delete"]').click();
  await again.locator('[data-action="delete-keep"]').click();
  assert.equal(await again.count(), 1);
  await again.locator('[data-action="delete"]').click();
  await again.locator('[data-action="delete-confirm"]').click();
  await again.waitFor({ state: 'detached' });

  await page.click('#tab-text');
  await page.fill('#text-source', 'Un texte tapé avant de recharger la page.');
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.inputValue('#text-source'), 'Un texte tapé avant de recharger la page.');
  assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
  await context.close();
});

test('the model stops mid-job: the card says the job waits for it, in French and Arabic', { skip: skipReal }, async () => {
  // Its own service: its simulator is stopped. Requests wait for a backend rather than fail.
  const outage = await startServer({ simTimeScale: 1, env: { OLLAMA_TIMEOUT: '120', TRADIA_LLM_OUTAGE_PAUSE_SECS: '2' } });
  try {
    const { context, page } = await openPage(browser, outage);
    await load(page, outage);
    const job = await upload(page, [file('panne.xml', scenari('Panne', paragraphs(80, 'Panne')))]);
    await job.locator('li.job-file[data-stage="translating"]').waitFor({ timeout: 30000 });
    await outage.stopSimulator();
    const notice = job.locator('[data-role="notice"][data-notice="waiting_for_model"]');
    await notice.waitFor({ timeout: 90000 });
    assert.match(await notice.textContent(), /En attente du modèle de traduction/);
    await page.selectOption('#ui-lang', 'ar');
    await page.waitForFunction(() => document.documentElement.lang === 'ar');
    assert.match(await job.locator('[data-role="notice"]').textContent(), /في انتظار نموذج الترجمة/);
    assert.match(await job.locator('[data-role="status"]').textContent(), /\S/);
    await screenshot(page, 'ar-waiting-for-model');
    await context.close();
  } finally {
    await outage.close();
  }
});
