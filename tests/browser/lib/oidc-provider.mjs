// The real OpenID provider of the sign-in tests (tests/oidc/provider.mjs, npm `oidc-provider`),
// started for one service: its callback and page registered as redirect URIs.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './harness.mjs';

export const PROVIDER = process.env.TRADIA_OIDC_PROVIDER || path.join(REPO, 'tests', 'oidc', 'provider.mjs');
export const CLIENT_ID = 'tradia-browser';
export const CLIENT_SECRET = 'tradia-browser-secret-0123456789';

/** Why the provider cannot run here (fails the run when CI=true), or false. */
export function providerSkip() {
  const ready = existsSync(PROVIDER) && existsSync(path.join(path.dirname(PROVIDER), 'node_modules', 'oidc-provider'));
  if (ready) return false;
  const why = `the OpenID provider is not installed (npm ci in ${path.dirname(PROVIDER)})`;
  if (process.env.CI === 'true') throw new Error(`CI=true: ${why}`);
  return why;
}

/** Starts the provider for the service at `serviceUrl`; `{ issuer, close() }`. */
export async function startProvider(serviceUrl) {
  const child = spawn(process.execPath, [PROVIDER], {
    env: {
      ...process.env,
      OIDC_PORT: '0',
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_REDIRECT_URIS: `${serviceUrl}/api/v1/auth/oidc/callback`,
      OIDC_POST_LOGOUT_REDIRECT_URIS: `${serviceUrl}/`,
      OIDC_TAMPER: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const issuer = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the provider did not start:\n${output}`)), 60000);
    const keep = (chunk) => {
      output += chunk;
      const found = output.match(/^ready (\S+)$/m)?.[1];
      if (found) { clearTimeout(timer); resolve(found); }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the provider exited (${code}):\n${output}`)); });
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    issuer,
    async close() { child.kill('SIGTERM'); await exited; },
  };
}
