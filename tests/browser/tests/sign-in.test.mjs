// Signing in (issue 12, point 7), in real headless Chromium against the server (see
// lib/harness.mjs and lib/accounts.mjs): a wrong then the right password, throttling, the first
// start, an ended session, OpenID Connect's button, single-user mode, and the Arabic screens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, screenshot } from '../lib/harness.mjs';
import { skip, ADMIN, ALICE, useBrowser, file, assertClean, withServer, signInScreen, signIn, scenari } from '../lib/accounts.mjs';

const session = useBrowser();

test('sign-in: a wrong password is refused, the right one opens the page; sign out', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  const anonymous = await fetch(`${server.url}/api/v1/jobs`);
  assert.equal(anonymous.status, 401, 'the API asks for credentials');
  assert.equal((await anonymous.json()).error.code, 'unauthenticated');
  const { context, page, seen } = await openPage(session.browser, server);
  await signInScreen(page, server);
  // Nothing but the sign-in is offered.
  assert.equal(await page.isVisible('#tablist'), false);
  assert.equal(await page.isVisible('#user-menu'), false);
  assert.equal(await page.isVisible('#setup-form'), false);
  await screenshot(page, 'fr-signin');
  await page.fill('#signin-login', ALICE.login);
  await page.fill('#signin-password', 'not-her-password');
  await page.click('#signin-submit');
  await page.locator('#signin-messages p').filter({ hasText: 'Identifiant ou mot de passe incorrect.' }).waitFor();
  await screenshot(page, 'fr-signin-error');
  assert.equal(await page.isVisible('#tablist'), false, 'still nothing else');
  await page.fill('#signin-password', ALICE.password);
  await page.click('#signin-submit');
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.isVisible('#signin-form'), false);
  assert.equal(await page.isVisible('#tablist'), true);
  assert.match(await page.textContent('#user-name'), /alice/i);
  // The user menu: usage against the quotas, no administration for a user.
  await page.click('#user-menu-button');
  assert.equal(await page.getAttribute('#user-menu-button', 'aria-expanded'), 'true');
  assert.match(await page.textContent('#user-usage'), /caractères aujourd'hui/);
  assert.equal(await page.isVisible('#menu-admin'), false, 'no administration for a user');
  assert.equal(await page.isVisible('#single-user-banner'), false);
  await screenshot(page, 'fr-user-menu');
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('#user-menu-panel'), false, 'Escape closes the menu');
  // Unsafe requests carry the session's CSRF token, multipart uploads included.
  const upload = page.waitForRequest((r) => r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/jobs');
  await page.setInputFiles('#doc-files', [file('bonjour.xml', scenari('Bonjour.'))]);
  await page.click('#doc-submit');
  const csrf = (await upload).headers()['x-csrf-token'];
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
  assert.ok(csrf && csrf === me.csrf_token, `the upload carried X-CSRF-Token (${csrf})`);
  await page.locator('#jobs > li').first().waitFor();
  assert.deepEqual(await page.locator('#doc-messages p').allTextContents(), []);
  // Without the token the service refuses a cookie-authenticated unsafe request.
  const refused = await page.evaluate(async () => {
    const r = await fetch('/api/v1/me/keys', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"x"}' });
    return [r.status, (await r.json()).error.code];
  });
  assert.deepEqual(refused, [403, 'csrf_failed']);
  // Signing out brings the sign-in back, also after a reload.
  await page.click('#user-menu-button');
  await page.click('#sign-out');
  await page.waitForSelector('#signin-form:not([hidden])');
  await page.reload();
  await page.waitForSelector('#signin-form:not([hidden])');
  assert.equal(await page.isVisible('#tablist'), false);
  assertClean(seen);
  await context.close();
}));

test('sign-in: repeated failures are throttled, and the page says how long to wait', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  const { context, page, seen } = await openPage(session.browser, server);
  await signInScreen(page, server);
  let message = '';
  // The service decides after how many failures it refuses (a few; the tenth at the latest).
  for (let attempt = 1; attempt <= 12 && !/Réessayez dans \d+/.test(message); attempt++) {
    await page.fill('#signin-login', ALICE.login);
    await page.fill('#signin-password', `wrong-${attempt}`);
    const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/auth/login');
    await page.click('#signin-submit');
    await answer;
    await page.waitForFunction(() => !document.getElementById('signin-submit').disabled);
    message = await page.textContent('#signin-messages');
  }
  assert.match(message, /Trop de tentatives de connexion\. Réessayez dans \d+ (s|min|h)\./);
  assertClean(seen);
  await context.close();
}));

test('first start: only the set-up is offered; it creates the administrator, signed in', { skip }, (t) => withServer(t, { mode: 'local', setupRequired: true }, async (server) => {
  const config = await (await fetch(`${server.url}/api/v1/config`)).json();
  assert.equal(config.auth.setup_required, true);
  const token = server.setupToken;
  assert.ok(token, 'the service printed a set-up token');
  const { context, page, seen } = await openPage(session.browser, server);
  await page.goto(`${server.url}/`);
  await page.waitForSelector('#setup-form:not([hidden])');
  assert.equal(await page.isVisible('#signin-form'), false, 'no sign-in before an administrator exists');
  assert.equal(await page.isVisible('#tablist'), false, 'nothing else either');
  await screenshot(page, 'fr-setup');
  // A wrong token, then two different passwords: each refused with its message.
  await page.fill('#setup-token', 'not-the-token');
  await page.fill('#setup-login', ADMIN.login);
  await page.fill('#setup-password', ADMIN.password);
  await page.fill('#setup-confirm', ADMIN.password);
  await page.click('#setup-submit');
  await page.locator('#setup-messages p').filter({ hasText: "Ce jeton de mise en service n'est pas le bon" }).waitFor();
  // The link printed in the log fills the token in.
  await page.goto(`${server.url}/?setup=${encodeURIComponent(token)}`);
  await page.waitForSelector('#setup-form:not([hidden])');
  assert.equal(await page.inputValue('#setup-token'), token);
  await page.fill('#setup-login', ADMIN.login);
  await page.fill('#setup-name', 'Adèle Martin');
  await page.fill('#setup-password', 'court');
  await page.fill('#setup-confirm', 'court');
  await page.click('#setup-submit');
  await page.locator('#setup-messages p').filter({ hasText: 'Le mot de passe doit compter au moins 10 caractères.' }).waitFor();
  await page.fill('#setup-password', ADMIN.password);
  await page.fill('#setup-confirm', `${ADMIN.password}-typo`);
  await page.click('#setup-submit');
  await page.locator('#setup-messages p').filter({ hasText: 'Les deux mots de passe ne sont pas identiques.' }).waitFor();
  await page.fill('#setup-confirm', ADMIN.password);
  await page.click('#setup-submit');
  await page.waitForSelector('body[data-ready="true"]');
  assert.ok(!page.url().includes(token), 'the token left the address bar');
  assert.equal(await page.isVisible('#tablist'), true);
  await page.click('#user-menu-button');
  assert.equal(await page.isVisible('#menu-admin'), true, 'the first account administers the service');
  // Done once: the service refuses a second set-up, and the page asks for a sign-in.
  const again = await fetch(`${server.url}/api/v1/auth/setup`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token, login: 'mallory', password: 'mallory-pass-2026' }) });
  assert.equal(again.status, 409);
  const fresh = await openPage(session.browser, server);
  await signInScreen(fresh.page, server);
  assert.equal(await fresh.page.isVisible('#setup-form'), false);
  assertClean(fresh.seen);
  await fresh.context.close();
  assertClean(seen);
  await context.close();
}));

test('an ended session brings the sign-in back; the same user then goes on where they were', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  const { context, page, seen } = await openPage(session.browser, server);
  await signIn(page, server, ALICE);
  await page.click('#user-menu-button');
  await page.click('#menu-account');
  await page.waitForSelector('#view-account:not([hidden])');
  await page.evaluate(() => { window.__samePage = true; });
  // The session ends behind the page's back (expired, or signed out from elsewhere).
  await context.clearCookies();
  await page.fill('#key-name', 'après reconnexion');
  await page.click('#key-create');
  await page.waitForSelector('#signin-form:not([hidden])');
  assert.match(await page.textContent('#signin-messages'), /Votre session a pris fin/);
  assert.equal(await page.isVisible('#view-account'), false, 'nothing of the page while signed out');
  await page.fill('#signin-login', ALICE.login);
  await page.fill('#signin-password', ALICE.password);
  await page.click('#signin-submit');
  await page.waitForSelector('#view-account:not([hidden])');
  assert.equal(await page.evaluate(() => window.__samePage), true, 'the same page, not reloaded');
  // The new session's CSRF token is the one sent now.
  await page.click('#key-create');
  await page.waitForSelector('#new-key:not([hidden])');
  assert.deepEqual(await page.locator('#key-messages p.error').allTextContents(), []);
  assertClean(seen);
  await context.close();
}));

test('Arabic: the sign-in, its errors, the user menu and the account page are right to left', { skip }, (t) => withServer(t, { mode: 'local', users: [ADMIN, ALICE] }, async (server) => {
  const { context, page, seen } = await openPage(session.browser, server, { locale: 'ar-MA' });
  await signInScreen(page, server);
  assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('signin-form')).direction), 'rtl');
  assert.equal(await page.textContent('#signin-submit'), 'تسجيل الدخول');
  await page.fill('#signin-login', ALICE.login);
  await page.fill('#signin-password', 'wrong');
  await page.click('#signin-submit');
  await page.locator('#signin-messages p').filter({ hasText: 'اسم المستخدم أو كلمة المرور غير صحيحة.' }).waitFor();
  await screenshot(page, 'ar-signin-error');
  await page.fill('#signin-password', ALICE.password);
  await page.click('#signin-submit');
  await page.waitForSelector('body[data-ready="true"]');
  await page.click('#user-menu-button');
  // The menu opens towards the middle of the page: in Arabic its left edge is the button's.
  const [menu, button] = await Promise.all(['#user-menu-panel', '#user-menu-button'].map((s) => page.locator(s).boundingBox()));
  assert.ok(menu.x >= 0, `the menu stays on the screen: ${JSON.stringify(menu)}`);
  assert.ok(Math.abs(menu.x - button.x) < 2, `anchored at the button's left edge: menu ${menu.x}, button ${button.x}`);
  await screenshot(page, 'ar-user-menu');
  await page.click('#menu-account');
  await page.waitForSelector('#view-account:not([hidden])');
  assert.equal(await page.textContent('#account-title'), 'حسابي');
  await page.fill('#key-name', 'سكربت');
  await page.click('#key-create');
  await page.waitForSelector('#new-key:not([hidden])');
  // The key stays left to right inside the Arabic page.
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('new-key-value')).direction), 'ltr');
  await screenshot(page, 'ar-account');
  assertClean(seen);
  await context.close();
}));

test('single-user mode: a banner, no sign-in and no sign-out', { skip }, (t) => withServer(t, { mode: 'none' }, async (server) => {
  const { context, page, seen } = await openPage(session.browser, server);
  await page.goto(`${server.url}/`);
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(await page.isVisible('#signin-form'), false);
  assert.match(await page.textContent('#single-user-banner'), /Mode mono-utilisateur/);
  assert.equal(await page.isVisible('#single-user-banner'), true);
  if (await page.isVisible('#user-menu-button')) {
    await page.click('#user-menu-button');
    assert.equal(await page.isVisible('#sign-out'), false, 'nobody to sign out');
  }
  await screenshot(page, 'fr-single-user');
  assertClean(seen);
  await context.close();
}));

test('OpenID Connect: the button is named after the provider and starts the flow; a failed sign-in says so', { skip }, async (t) => {
  if ((process.env.TRADIA_BROWSER_SERVER ?? 'real') !== 'mock') {
    // Against the real service, oidc.test.mjs runs the whole flow with a real provider.
    t.skip('the real service\'s OpenID flow is tested in oidc.test.mjs, with a provider');
    return;
  }
  await withServer(t, { mode: 'oidc', oidcLabel: 'Keycloak', users: [ADMIN] }, async (server) => {
    const { context, page, seen } = await openPage(session.browser, server);
    await signInScreen(page, server, '?auth_error=oidc_failed#text');
    assert.equal(await page.isVisible('#signin-local'), false, 'no password form without local accounts');
    assert.equal(await page.textContent('#signin-oidc'), 'Se connecter avec Keycloak');
    assert.equal(await page.getAttribute('#signin-oidc', 'href'), '/api/v1/auth/oidc/start?return_to=%2F%23text');
    assert.match(await page.textContent('#signin-messages'), /La connexion par le compte de l'établissement a échoué/);
    assert.equal(new URL(page.url()).search, '', 'the error left the address bar');
    await page.selectOption('#ui-lang', 'ar');
    await page.waitForFunction(() => document.documentElement.dir === 'rtl');
    assert.equal(await page.textContent('#signin-oidc'), 'تسجيل الدخول عبر Keycloak');
    assert.match(await page.textContent('#signin-messages'), /فشل تسجيل الدخول عبر حساب المؤسسة/, 'the message follows the language');
    await screenshot(page, 'ar-signin-oidc');
    assertClean(seen);
    await context.close();
  });
});
