// OpenID Connect end to end in Chromium against the real service and a real provider
// (oidc-provider): the button named after the provider, its login and consent forms, back
// signed in with the role its claim gives, only one's own jobs, and signing out at the provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPage, screenshot } from '../lib/harness.mjs';
import { skip as accountsSkip, ADMIN, useBrowser, file, withServer, signInScreen, scenari } from '../lib/accounts.mjs';
import { providerSkip, startProvider, CLIENT_ID, CLIENT_SECRET } from '../lib/oidc-provider.mjs';

const session = useBrowser();
const real = (process.env.TRADIA_BROWSER_SERVER ?? 'real') !== 'mock';
const skip = accountsSkip || (!real && 'the mock server has no OpenID flow') || providerSkip();

/** Signs in as `login` through the provider's forms, from the service's sign-in screen. */
async function signInWithProvider(page, server, login) {
  await signInScreen(page, server);
  assert.equal(await page.textContent('#signin-oidc'), 'Se connecter avec Test IdP');
  await page.click('#signin-oidc');
  await page.waitForSelector('input[name="login"]');
  await page.fill('input[name="login"]', login);
  await page.fill('input[name="password"]', 'any password');
  await page.click('button[type="submit"]');
  // The consent form, then back to the service.
  await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached' });
  await page.click('button[type="submit"]');
  await page.waitForSelector('body[data-ready="true"]');
  assert.equal(new URL(page.url()).origin, server.url, 'back at the service');
}

/**
 * The requests to hosts other than the service's and the provider's. The provider's own
 * development forms (not Tradia's page) ask Google Fonts for their font.
 */
function foreign(seen, issuer) {
  const provider = new URL(issuer).origin;
  return seen.foreign.filter((url) => ![provider, 'https://fonts.googleapis.com'].includes(new URL(url).origin));
}

test('OpenID Connect: sign in at the provider, come back signed in, see only one\'s own jobs, sign out', { skip }, async (t) => {
  let provider = null;
  const oidc = async (serviceUrl) => {
    provider = await startProvider(serviceUrl);
    return { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, label: 'Test IdP',
      roleClaim: 'realm_access.roles', adminValues: 'tradia-admin' };
  };
  try {
    await withServer(t, { mode: 'oidc', oidc, users: [ADMIN] }, async (server) => {
      const first = await openPage(session.browser, server);
      await signInWithProvider(first.page, server, 'bob');
      const me = await first.page.evaluate(async () => (await fetch('/api/v1/me')).json());
      assert.equal(me.login, 'bob');
      assert.equal(me.role, 'user');
      await first.page.setInputFiles('#doc-files', [file('rapport-bob.xml', scenari('Le rapport de Bob.'))]);
      await first.page.click('#doc-submit');
      const row = first.page.locator('#jobs > li').first();
      await row.waitFor();
      const id = await row.getAttribute('data-job-id');
      await screenshot(first.page, 'fr-oidc-signed-in');

      // Alice, another person at the provider, sees none of Bob's jobs; she is an administrator.
      const second = await openPage(session.browser, server);
      await signInWithProvider(second.page, server, 'alice');
      const alice = await second.page.evaluate(async () => (await fetch('/api/v1/me')).json());
      assert.equal(alice.login, 'alice');
      assert.equal(alice.role, 'admin', 'realm_access.roles has tradia-admin');
      assert.equal(await second.page.locator('#jobs > li').count(), 0);
      const status = await second.page.evaluate(async (job) => (await fetch(`/api/v1/jobs/${job}/result`)).status, id);
      assert.equal(status, 404);

      // Bob signs out: at the provider too, which sends him back to the sign-in screen.
      await first.page.click('#user-menu-button');
      await first.page.click('#sign-out');
      await first.page.waitForURL((url) => url.origin === new URL(provider.issuer).origin);
      await first.page.click('button[type="submit"][value="yes"], button[name="logout"]');
      await first.page.waitForSelector('#signin-form:not([hidden])');
      assert.equal(new URL(first.page.url()).origin, server.url);
      const after = await first.page.evaluate(async () => (await fetch('/api/v1/me')).status);
      assert.equal(after, 401, 'signed out');
      for (const p of [first, second]) {
        assert.deepEqual(foreign(p.seen, provider.issuer), []);
        assert.deepEqual(p.seen.errors, [], p.seen.errors.join('\n'));
        await p.context.close();
      }
    });
  } finally {
    await provider?.close();
  }
});
