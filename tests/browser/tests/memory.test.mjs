// Translation memory and glossaries in the page (issue 15, points 3 and 6), in real headless
// Chromium against the service: a glossary imported from a CSV file, chosen for an upload with
// other options (the job's options then name it, and its row says so), the document's own title
// shown as its brief; the "memory and glossaries" view counts the entries, says what is kept and
// deleted, exports it as TMX and imports it back, and empties it after a confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, screenshot } from '../lib/harness.mjs';
import { skip, ADMIN, ALICE, useBrowser, file, assertClean, withServer, unnamedControls, signIn } from '../lib/accounts.mjs';
import { scenari } from '../lib/documents.mjs';

const session = useBrowser();

test('a glossary imported in the page is chosen for an upload: the job\'s options name it, and the memory is emptied after a confirmation', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  const { page, context, seen } = await openPage(session.browser, server);
  await signIn(page, server, ALICE);
  await page.click('#user-menu-button');
  await page.click('#menu-memory');
  await page.waitForSelector('#view-memory:not([hidden])');
  assert.equal(await page.isVisible('#tablist'), false, 'the memory is a page of its own');
  await page.locator('#memory-count[data-count="0"]').waitFor();
  // What is kept and deleted is said where the memory is managed.
  const privacy = await page.textContent('#memory-privacy');
  for (const said of [/durée de conservation.*gardées/, /Supprimer une tâche supprime les entrées/, /suppression de votre compte supprime votre mémoire et vos glossaires/, /vider votre mémoire/]) {
    assert.match(privacy, said);
  }

  // Import a glossary (CSV) for French → English.
  await page.locator('#glossaries-empty').waitFor();
  await page.fill('#glossary-name', 'Météo');
  await page.selectOption('#glossary-source', 'fr');
  await page.selectOption('#glossary-target', 'en');
  await page.setInputFiles('#glossary-file', [file('meteo.csv', 'source,target\nvent,Zwind\npression,Zpressure\n')]);
  await page.click('#glossary-import-submit');
  const row = page.locator('#glossaries tr').filter({ hasText: 'Météo' });
  await row.waitFor();
  assert.match(await row.textContent(), /2/, 'two terms');
  const glossaryId = await row.getAttribute('data-glossary-id');
  const exported = await page.evaluate(async (id) => (await fetch(`/api/v1/glossaries/${id}/export?format=csv`)).text(), glossaryId);
  assert.match(exported, /vent,Zwind/);
  assert.deepEqual(await unnamedControls(page, '#view-memory'), [], 'every control of the memory page is named');
  await screenshot(page, 'fr-memory-glossaries');

  // Upload with that glossary, formality and instructions; no brief: the item's title is used.
  await page.click('#view-memory .back-link');
  await page.waitForSelector('#tablist');
  await page.click('#doc-options > summary');
  await page.selectOption('#doc-glossary', glossaryId);
  await page.selectOption('#doc-formality', 'more');
  await page.fill('#doc-instructions', 'Phrases courtes.');
  await page.selectOption('#doc-source', 'fr');
  await page.selectOption('#doc-target', 'en');
  await page.setInputFiles('#doc-files', [file('vent.xml', scenari('Le vent et la pression', ['Le vent souffle.', 'La pression baisse.']))]);
  await page.click('#doc-submit');
  const job = page.locator('#jobs > li').first();
  await job.waitFor();
  const id = await job.getAttribute('data-job-id');
  await job.locator('[data-role="status"]').filter({ hasText: 'Terminée' }).waitFor({ timeout: 30000 });
  const options = job.locator('[data-role="options"]');
  await options.filter({ hasText: 'Glossaire : Météo' }).waitFor();
  assert.match(await options.textContent(), /Soutenu/);
  assert.match(await options.textContent(), /Sujet : Le vent et la pression/, 'the document\'s own title is its brief');
  const view = await page.evaluate(async (j) => (await fetch(`/api/v1/jobs/${j}`)).json(), id);
  assert.equal(view.options.glossary_id, glossaryId);
  assert.equal(view.options.formality, 'more');
  assert.equal(view.options.instructions, 'Phrases courtes.');
  assert.equal(view.files[0].title, 'Le vent et la pression');
  const output = await page.evaluate(async (j) => (await fetch(`/api/v1/jobs/${j}/result`)).text(), id);
  assert.match(output, /Zwind/, 'the glossary reached the model');
  // The deletion dialog says what happens to the memory.
  await job.locator('[data-action="delete"]').click();
  assert.match(await job.textContent(), /entrées de mémoire sont supprimées aussi/);
  await job.locator('[data-action="delete-keep"]').click();

  // The memory now holds the job's translations; emptying it asks first.
  await page.click('#user-menu-button');
  await page.click('#menu-memory');
  await page.waitForSelector('#view-memory:not([hidden])');
  const count = page.locator('#memory-count');
  await page.waitForFunction(() => Number(document.getElementById('memory-count').dataset.count) > 0);
  assert.match(await count.textContent(), /entrées dans votre mémoire/);
  await page.click('#memory-purge-all');
  await page.locator('#memory-purge-actions').filter({ hasText: 'Supprimer définitivement toutes les entrées' }).waitFor();
  await page.click('#memory-purge-no');
  assert.notEqual(await count.getAttribute('data-count'), '0', 'no: nothing deleted');
  const before = await count.getAttribute('data-count');
  const tmx = await page.evaluate(async () => (await fetch('/api/v1/memory/tmx')).text());
  assert.match(tmx, /<tmx version="1.4"/);
  await page.click('#memory-purge-all');
  await page.click('#memory-purge-yes');
  await page.locator('#memory-count[data-count="0"]').waitFor();
  await page.locator('#memory-messages').filter({ hasText: 'entrées supprimées' }).waitFor();
  const summary = await page.evaluate(async () => (await fetch('/api/v1/memory')).json());
  assert.equal(summary.entries, 0);
  // The exported file imported back gives the same count.
  await page.setInputFiles('#memory-import', [file('memoire.tmx', tmx)]);
  await page.locator(`#memory-count[data-count="${before}"]`).waitFor();
  await page.locator('#memory-messages').filter({ hasText: 'entrées importées' }).waitFor();

  // Deleting the glossary asks first, then it is gone from the list and the upload choices.
  await row.locator('[data-action="glossary-delete"]').click();
  await row.locator('[data-action="glossary-delete-confirm"]').click();
  await page.locator('#glossaries-empty').waitFor();
  assert.equal(await page.locator(`#doc-glossary option[value="${glossaryId}"]`).count(), 0);
  assertClean(seen);
  await context.close();
}));

test('the memory view in English and Arabic names every control', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  for (const [locale, text] of [['en-GB', /entries in your memory/], ['ar', /عدد المدخلات في ذاكرتك/]]) {
    const { page, context, seen } = await openPage(session.browser, server, { locale });
    await signIn(page, server, ALICE);
    await page.goto(`${server.url}/#memory`);
    await page.waitForSelector('#view-memory:not([hidden])');
    await page.locator('#memory-count[data-count="0"]').waitFor();
    assert.match(await page.textContent('#memory-count'), text);
    assert.deepEqual(await unnamedControls(page, '#view-memory'), []);
    assert.deepEqual(await unnamedControls(page, '#doc-form'), []);
    assertClean(seen);
    await context.close();
  }
}));
