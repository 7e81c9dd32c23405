// Shared set-up of the accounts tests (sign-in.test.mjs, accounts.test.mjs): the users they
// sign in as, a server per test with the accounts it needs, and small page helpers. A service
// without accounts (no `tradia users` command, or no `auth` in GET /api/v1/config) skips them,
// saying so.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { skipReason, serverHasAccounts, startServer, launchBrowser } from './harness.mjs';

/** Why the accounts tests cannot run here, or false. */
export const skip = skipReason() ?? (serverHasAccounts() ? false
  : 'the service under test has no accounts yet (no `tradia users` command)');

// Every test has an administrator: without one the service offers only the first-start set-up.
export const ADMIN = { login: 'adele', password: 'admin-pass-2026', role: 'admin' };
export const ALICE = { login: 'alice', password: 'alice-pass-2026', role: 'user' };
export const BOB = { login: 'bob', password: 'bob-pass-2026', role: 'user' };

const files = mkdtempSync(path.join(tmpdir(), 'tradia-browser-accounts-'));
let current = null;

/** Starts the browser before the file's tests and closes it (and removes their files) after. */
export function useBrowser() {
  before(async () => {
    if (!skip) current = await launchBrowser();
  });
  after(async () => {
    await current?.close();
    rmSync(files, { recursive: true, force: true });
  });
  return { get browser() { return current; } };
}

export function file(name, content) {
  const p = path.join(files, name);
  writeFileSync(p, content);
  return p;
}

export function assertClean(seen) {
  assert.deepEqual(seen.foreign, [], `requests to other hosts: ${seen.foreign.join(', ')}`);
  assert.deepEqual(seen.errors, [], seen.errors.join('\n'));
}

/**
 * Runs `fn(server)` against a server started with `auth`, or skips the test when that server
 * has no accounts (an older service).
 */
export async function withServer(t, auth, fn) {
  const server = await startServer({ auth });
  try {
    const config = await (await fetch(`${server.url}/api/v1/config`)).json().catch(() => ({}));
    if (!config.auth) {
      t.skip(`the ${server.kind} service has no accounts (no \`auth\` in GET /api/v1/config)`);
      return;
    }
    await fn(server);
  } finally {
    await server.close();
  }
}

/** The controls under `selector` that have no accessible name (see ui.test.mjs). */
export function unnamedControls(page, selector) {
  return page.evaluate((root) => {
    const name = (el) => {
      if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
      const by = el.getAttribute('aria-labelledby');
      if (by) return by.split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join(' ').trim();
      if (el.labels?.length) return [...el.labels].map((l) => l.textContent).join(' ').trim();
      return el.textContent.trim();
    };
    return [...document.querySelector(root).querySelectorAll('button, select, textarea, input, a[href]')]
      .filter((el) => !name(el)).map((el) => el.outerHTML.slice(0, 120));
  }, selector);
}

/** Opens the page and waits for the sign-in screen. */
export async function signInScreen(page, server, suffix = '') {
  await page.goto(`${server.url}/${suffix}`);
  await page.waitForSelector('#signin-form:not([hidden])');
}

/** Signs in through the page and waits until the application is ready. */
export async function signIn(page, server, user) {
  await signInScreen(page, server);
  await page.fill('#signin-login', user.login);
  await page.fill('#signin-password', user.password);
  await page.click('#signin-submit');
  await page.waitForSelector('body[data-ready="true"]');
}

export const scenari = (text) => '<?xml version="1.0"?>\n<sc:item xmlns:sc="http://www.utc.fr/ics/scenari/v3/core" xmlns:op="utc.fr:ics/opale3">'
  + `<op:expUc><sc:para xml:space="preserve">${text}</sc:para></op:expUc></sc:item>\n`;
