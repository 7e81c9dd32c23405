// Shared set-up for the browser tests: the server under test, headless Chromium with a fresh
// profile, and a guard that records every request the page makes to another host.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startMockServer } from './mock-server.mjs';
import { startRealServer, tradiaBinary } from './real-server.mjs';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOTS = process.env.SCREENSHOT_DIR ?? path.join(REPO, 'test-output', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CI = process.env.CI === 'true';

/** Why the tests cannot run here, or null. With CI=true a missing browser is an error. */
export function skipReason() {
  if (existsSync(CHROMIUM)) return null;
  const why = `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (CI) throw new Error(`${why}; CI=true: failing instead of skipping`);
  console.log(`SKIPPED browser tests: ${why}`);
  return why;
}

/** Starts the server under test: the real `tradia` service with the simulator, or the mock. */
export async function startServer(options = {}) {
  const which = process.env.TRADIA_BROWSER_SERVER ?? 'real';
  if (which === 'mock') return startMockServer(options);
  return startRealServer(options);
}

/**
 * Whether the server under test has accounts: the mock has; the real service has when its
 * binary knows `tradia users` (the accounts tests create their users with it).
 */
export function serverHasAccounts() {
  if ((process.env.TRADIA_BROWSER_SERVER ?? 'real') === 'mock') return true;
  return spawnSync(tradiaBinary(), ['users', '--help'], { stdio: 'ignore' }).status === 0;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    // launch() gives each run a fresh temporary profile.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--lang=fr-FR'],
  });
}

/**
 * A new page in a fresh context. Every request it makes is recorded; `foreign` lists those to a
 * host other than the server's, console errors and page errors are collected too.
 */
export async function openPage(browser, server, { locale = 'fr-FR', viewport = { width: 1280, height: 900 }, acceptDownloads = true } = {}) {
  const context = await browser.newContext({ locale, viewport, acceptDownloads });
  const page = await context.newPage();
  const origin = new URL(server.url).origin;
  const seen = { all: [], foreign: [], errors: [] };
  context.on('request', (request) => {
    const url = request.url();
    seen.all.push(url);
    // blob: is the photo preview, built in the page from a file the user picked.
    if (!url.startsWith('blob:') && new URL(url).origin !== origin) seen.foreign.push(url);
  });
  page.on('pageerror', (e) => seen.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A failed request already shows as a failed test step; scripts' own errors must not pass silently.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) seen.errors.push(`console: ${m.text()}`);
  });
  return { context, page, seen, origin };
}

/** Loads the page and waits until its scripts have filled it. */
export async function load(page, server, hash = '') {
  await page.goto(`${server.url}/${hash}`);
  await page.waitForSelector('body[data-ready="true"]');
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
