// The signed-in user's page (issue 12, point 7), in real headless Chromium against the server
// (see lib/harness.mjs and lib/accounts.mjs): API keys, usage against quotas, "my translations"
// from the service, and the administration page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, screenshot } from '../lib/harness.mjs';
import { skip, ADMIN, ALICE, BOB, useBrowser, file, assertClean, withServer, unnamedControls, signIn, scenari } from '../lib/accounts.mjs';

const session = useBrowser();

test('API key: created and shown once with a copy button, usable as a Bearer key, revoked after a confirmation', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  const { context, page, seen } = await openPage(session.browser, server);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
  await signIn(page, server, ALICE);
  await page.click('#user-menu-button');
  await page.click('#menu-account');
  await page.waitForSelector('#view-account:not([hidden])');
  assert.equal(await page.isVisible('#tablist'), false, 'the account is a page of its own');
  await page.locator('#keys-empty').waitFor();
  await page.fill('#key-name', 'script de publication');
  await page.click('#key-create');
  await page.waitForSelector('#new-key:not([hidden])');
  const key = (await page.textContent('#new-key-value')).trim();
  assert.match(key, /^\S{20,}$/, `a key: ${key}`);
  assert.match(await page.textContent('#new-key'), /ne sera plus jamais affichée/);
  await page.click('#new-key-copy');
  await page.locator('#new-key-status').filter({ hasText: 'Clé copiée.' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), key);
  const row = page.locator('#keys tr').filter({ hasText: 'script de publication' });
  await row.waitFor();
  await screenshot(page, 'fr-account-key');
  assert.deepEqual(await unnamedControls(page, '#view-account'), [], 'every control of the account page is named');
  assert.deepEqual(await unnamedControls(page, '#user-menu'), [], 'every control of the user menu is named');
  // The key works for scripts, and is the user's.
  const asKey = await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(asKey.status, 200);
  assert.equal((await asKey.json()).login, ALICE.login);
  // Shown once: after a reload only its name and its beginning are listed.
  await page.reload();
  await page.waitForSelector('body[data-ready="true"]');
  await row.waitFor();
  assert.equal(await page.isVisible('#new-key'), false);
  assert.equal((await page.textContent('body')).includes(key), false, 'the key is not shown again');
  const prefix = (await row.locator('code').textContent()).replace('…', '');
  assert.ok(prefix.length >= 4 && key.startsWith(prefix), `the prefix ${prefix} begins the key`);
  // Revoking asks first; "cancel" keeps the key.
  await row.locator('[data-action="revoke"]').click();
  assert.match(await row.textContent(), /Révoquer « script de publication » \?/);
  await row.locator('[data-action="cancel-revoke"]').click();
  assert.equal(await row.locator('[data-action="revoke"]').count(), 1);
  await row.locator('[data-action="revoke"]').click();
  await row.locator('[data-action="confirm-revoke"]').click();
  await page.locator('#key-messages p').filter({ hasText: 'Clé révoquée.' }).waitFor();
  await page.locator('#keys-empty').waitFor();
  const revoked = await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${key}` } });
  assert.equal(revoked.status, 401, 'a revoked key no longer works');
  assertClean(seen);
  await context.close();
}));

test('usage is shown against the quotas; over a quota the page says when it renews', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  const admin = await openPage(session.browser, server);
  await signIn(admin.page, server, ADMIN);
  await admin.page.goto(`${server.url}/#admin`);
  const row = admin.page.locator(`#users tr[data-login="${ALICE.login}"]`);
  await row.waitFor();
  await row.locator('[data-action="quotas"]').click();
  await admin.page.locator('form.quota-form input[name="chars_per_day"]').fill('40');
  await admin.page.locator('form.quota-form button[type="submit"]').click();
  await admin.page.locator('#admin-messages p').filter({ hasText: 'Quotas de' }).waitFor();
  assertClean(admin.seen);
  await admin.context.close();

  const { context, page, seen } = await openPage(session.browser, server);
  await signIn(page, server, ALICE);
  await page.click('#user-menu-button');
  assert.match(await page.textContent('#user-usage [data-usage="usage_today"]'), /^0 \/ 40 caractères aujourd'hui$/);
  assert.equal(await page.locator('#user-usage meter').count(), 1, 'a meter for the limited figure');
  await page.keyboard.press('Escape');
  await page.click('#tab-text');
  await page.selectOption('#text-source-lang', 'fr');
  await page.selectOption('#text-target-lang', 'en');
  const text = 'Trente caractères, pas un de plus.'.slice(0, 30);
  let refused = '';
  for (let attempt = 1; attempt <= 3 && !refused; attempt++) {
    await page.fill('#text-source', text);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/translate/stream');
    await page.click('#text-submit');
    await answer;
    await page.waitForFunction(() => document.getElementById('text-output').getAttribute('aria-busy') === 'false'
      && (document.getElementById('text-output').textContent || document.querySelector('#text-messages p')));
    refused = (await page.locator('#text-messages p').allTextContents()).join(' ');
  }
  assert.match(refused, /Vous avez atteint votre quota\. Il se renouvelle dans \d+ (s|min|h)\./);
  await page.click('#user-menu-button');
  await page.locator('#user-usage [data-usage="usage_today"]').filter({ hasText: /^30 \/ 40 caractères aujourd'hui$/ }).waitFor();
  await screenshot(page, 'fr-quota-reached');
  assertClean(seen);
  await context.close();
  // The administrator's usage per user counts the characters that were translated.
  const report = await openPage(session.browser, server);
  await signIn(report.page, server, ADMIN);
  await report.page.goto(`${server.url}/#admin`);
  const usage = report.page.locator(`#usage tr[data-login="${ALICE.login}"]`);
  await usage.waitFor();
  assert.equal((await usage.locator('td.num').textContent()).trim(), '30');
  assertClean(report.seen);
  await report.context.close();
}));

test('my translations come from the service: the same on another computer, nobody else\'s', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE, BOB] }, async (server) => {
  const first = await openPage(session.browser, server);
  await signIn(first.page, server, ALICE);
  await first.page.setInputFiles('#doc-files', [file('rapport-alice.xml', scenari('Le rapport d\'Alice.'))]);
  await first.page.click('#doc-submit');
  const row = first.page.locator('#jobs > li').first();
  await row.waitFor();
  const id = await row.getAttribute('data-job-id');
  await row.locator('[data-role="status"]').filter({ hasText: 'Terminée' }).waitFor({ timeout: 30000 });
  // Another computer: a fresh browser profile, nothing in its storage.
  const second = await openPage(session.browser, server);
  await signIn(second.page, server, ALICE);
  const there = second.page.locator(`#jobs > li[data-job-id="${id}"]`);
  await there.waitFor();
  assert.match(await there.textContent(), /rapport-alice\.xml/);
  assert.equal(await there.locator('[data-action="download"]').count(), 1);
  await screenshot(second.page, 'fr-my-translations');
  // Bob sees none of it, and the service does not know Alice's job for him.
  const third = await openPage(session.browser, server);
  await signIn(third.page, server, BOB);
  assert.equal(await third.page.locator('#jobs > li').count(), 0);
  assert.equal(await third.page.isVisible('#jobs-empty'), true);
  const status = await third.page.evaluate(async (job) => (await fetch(`/api/v1/jobs/${job}`)).status, id);
  assert.equal(status, 404);
  for (const p of [first, second, third]) { assertClean(p.seen); await p.context.close(); }
}));

test('the administration page is offered to administrators only, and manages users, teams, usage and audit', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE, BOB] }, async (server) => {
  // A user: no link, the address shows the translations, and the API says no.
  const user = await openPage(session.browser, server);
  await signIn(user.page, server, BOB);
  await user.page.goto(`${server.url}/#admin`);
  await user.page.waitForSelector('body[data-ready="true"]');
  assert.equal(await user.page.isVisible('#view-admin'), false);
  assert.equal(await user.page.isVisible('#tablist'), true);
  assert.equal(await user.page.isVisible('#menu-admin'), false);
  const forbidden = await user.page.evaluate(async () => { const r = await fetch('/api/v1/admin/users'); return [r.status, (await r.json()).error.code]; });
  assert.deepEqual(forbidden, [403, 'forbidden']);
  assertClean(user.seen);
  await user.context.close();

  const { context, page, seen } = await openPage(session.browser, server);
  await signIn(page, server, ADMIN);
  await page.click('#user-menu-button');
  await page.click('#menu-admin');
  await page.waitForSelector('#view-admin:not([hidden])');
  const users = page.locator('#users');
  for (const login of [ADMIN.login, ALICE.login, BOB.login]) await users.locator(`tr[data-login="${login}"]`).waitFor();
  // Create a user.
  await page.fill('#new-user-login', 'carol');
  await page.fill('#new-user-name', 'Carole Dupont');
  await page.fill('#new-user-password', 'carol-pass-2026');
  await page.click('#new-user-submit');
  const carol = users.locator('tr[data-login="carol"]');
  await carol.waitFor();
  assert.match(await carol.textContent(), /Carole Dupont/);
  // Make Bob an administrator, disable Carol.
  await users.locator(`tr[data-login="${BOB.login}"] select[data-action="role"]`).selectOption('admin');
  await page.locator('#admin-messages p').filter({ hasText: 'Administrateur' }).waitFor();
  assert.equal(await users.locator(`tr[data-login="${BOB.login}"] select[data-action="role"]`).inputValue(), 'admin');
  // The audit log, read again after each change, records it (by whom, in words).
  const roleChange = page.locator('#audit tr[data-action-name="role_changed"]').first();
  await roleChange.waitFor();
  assert.match(await roleChange.textContent(), new RegExp(`${ADMIN.login}.*rôle modifié.*${BOB.login}.*user → admin`));
  await carol.locator('[data-action="state"]').click();
  await users.locator('tr[data-login="carol"][data-state="disabled"]').waitFor();
  assert.match(await carol.textContent(), /Désactivé/);
  const disabled = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: 'carol', password: 'carol-pass-2026' }) });
  assert.equal(disabled.status, 403, 'a disabled account cannot sign in');
  // Quotas of Alice.
  await users.locator(`tr[data-login="${ALICE.login}"] [data-action="quotas"]`).click();
  const quotaForm = page.locator('form.quota-form');
  await quotaForm.locator('input[name="chars_per_day"]').fill('5000');
  await quotaForm.locator('button[type="submit"]').click();
  await page.locator('#admin-messages p').filter({ hasText: 'Quotas de' }).waitFor();
  assert.match(await users.locator(`tr[data-login="${ALICE.login}"]`).textContent(), /Caractères par jour : 5[\s\u202f ]?000/);
  // A new password for Alice (too short first), then a key for her scripts, shown once.
  await users.locator(`tr[data-login="${ALICE.login}"] [data-action="password"]`).click();
  const passwordForm = page.locator('form[data-password-for]');
  await passwordForm.locator('input').fill('court');
  await passwordForm.locator('button[type="submit"]').click();
  await page.locator('#admin-messages p').filter({ hasText: 'au moins 10 caractères' }).waitFor();
  await passwordForm.locator('input').fill('alice-new-pass-2026');
  await passwordForm.locator('button[type="submit"]').click();
  await page.locator('#admin-messages p').filter({ hasText: `Mot de passe de ${ALICE.login} enregistré.` }).waitFor();
  const relogin = await fetch(`${server.url}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: ALICE.login, password: 'alice-new-pass-2026' }) });
  assert.equal(relogin.status, 200, 'Alice signs in with her new password');
  await users.locator(`tr[data-login="${ALICE.login}"] [data-action="key"]`).click();
  await page.waitForSelector('#admin-new-key:not([hidden])');
  const aliceKey = (await page.textContent('#admin-new-key-value')).trim();
  const asAlice = await fetch(`${server.url}/api/v1/me`, { headers: { Authorization: `Bearer ${aliceKey}` } });
  assert.equal((await asAlice.json()).login, ALICE.login, 'the key acts as Alice');
  // A team, and Alice in it.
  await page.fill('#new-team-name', 'Lettres');
  await page.click('#new-team-submit');
  const team = page.locator('#teams li.team[data-team="Lettres"]');
  await team.waitFor();
  const aliceId = await users.locator(`tr[data-login="${ALICE.login}"]`).getAttribute('data-user-id');
  await team.locator('select').selectOption(aliceId);
  await team.locator('button[type="submit"]').click();
  await page.locator('#teams li.team[data-team="Lettres"] li[data-member]').first().waitFor();
  assert.match(await page.locator('#teams li.team[data-team="Lettres"] .members').textContent(), /alice/i);
  // Usage per user for the month, and the audit log (sign-ins at least).
  assert.match(await page.inputValue('#usage-month'), /^\d{4}-\d{2}$/);
  // Nobody translated yet: the month's usage says so (the quota test checks the figures).
  await page.locator('#usage-empty:not([hidden])').waitFor();
  await page.locator('#audit tr').first().waitFor();
  assert.ok(await page.locator('#audit tr').count() >= 2, 'the audit log lists events');
  const who = await page.locator('#audit tr td:nth-child(2)').allTextContents();
  assert.ok(who.includes(ADMIN.login), `the administrator's own sign-in is named by login: ${who.join(', ')}`);
  await users.locator(`tr[data-login="${ALICE.login}"] [data-action="quotas"]`).click();
  await page.locator('form.quota-form').waitFor();
  assert.deepEqual(await unnamedControls(page, '#view-admin'), [], 'every control of the administration is named');
  await users.locator(`tr[data-login="${ALICE.login}"] [data-action="quotas"]`).click();
  await screenshot(page, 'fr-admin');
  // "Since" a moment in the future: nothing; the export link follows the filter.
  await page.fill('#audit-since', '2099-01-01T00:00');
  await page.click('#audit-form button[type="submit"]');
  await page.locator('#audit-empty').waitFor();
  const href = await page.getAttribute('#audit-export', 'href');
  assert.match(href, /^\/api\/v1\/admin\/audit\?since=\d{4}-\d\d-\d\dT\d\d%3A\d\d%3A00\.000Z&format=jsonl$/);
  await page.fill('#audit-since', '');
  await page.click('#audit-form button[type="submit"]');
  await page.locator('#audit tr').first().waitFor();
  const exported = await page.evaluate(async () => {
    const r = await fetch(document.getElementById('audit-export').getAttribute('href'));
    return [r.headers.get('content-type'), await r.text()];
  });
  assert.match(exported[0], /ndjson|jsonl|json/);
  const lines = exported[1].trim().split('\n');
  assert.ok(lines.length >= 2 && lines.every((l) => typeof JSON.parse(l) === 'object'), 'JSON lines');
  // The same page in Arabic, right to left.
  await page.selectOption('#ui-lang', 'ar');
  await page.waitForFunction(() => document.documentElement.dir === 'rtl');
  assert.equal(await page.textContent('#admin-title'), 'الإدارة');
  assert.match(await page.textContent('#admin-messages'), /أُضيف alice إلى Lettres/, 'the last message follows the language');
  assert.match(await page.textContent('#admin-new-key-for'), /أُنشئ مفتاح API لـ alice/);
  await screenshot(page, 'ar-admin');
  // On a phone the tables scroll inside their cards; the page itself does not scroll sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no horizontal scroll');
  await screenshot(page, 'ar-phone-admin');
  assertClean(seen);
  await context.close();
}));
