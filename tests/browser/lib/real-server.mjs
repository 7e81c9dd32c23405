// Starts the real service for the browser tests: `tradia simulate-llm` (the LLM simulator) and
// `tradia serve` pointed at it, both on 127.0.0.1 and free ports, with a fresh data folder.
// The binary is $TRADIA_BIN, else the workspace's debug build ($CARGO_TARGET_DIR or target/).
// Accounts: single-user mode (`TRADIA_AUTH=none`) unless the test asks for local accounts,
// which are then created with `tradia users add` before the service starts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function tradiaBinary() {
  if (process.env.TRADIA_BIN) return process.env.TRADIA_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? path.join(REPO, 'target');
  return path.join(target, 'debug', 'tradia');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Spawns a process, keeping the tail of its output for error messages. */
function start(bin, args, env) {
  const merged = { ...process.env, ...env };
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  const child = spawn(bin, args, { env: merged, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.head = ''; // the start of the output too: the first start prints its set-up link there
  const keep = (chunk) => {
    if (child.head.length < 8000) child.head += chunk;
    child.output = (child.output + chunk).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

async function waitFor(what, child, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let exited = null;
  child.exited.then((e) => { exited = e; });
  while (Date.now() < deadline) {
    if (exited) throw new Error(`${what} exited (${JSON.stringify(exited)}):\n${child.output}`);
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s:\n${child.output}`);
}

/** Runs a command to its end, with `input` on its standard input; rejects when it fails. */
function runToEnd(bin, args, env, input) {
  return new Promise((resolve, reject) => {
    const merged = { ...process.env, ...env };
    for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
    const child = spawn(bin, args, { env: merged, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => { output += c; });
    child.stderr.on('data', (c) => { output += c; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`tradia ${args.join(' ')} exited ${code}:\n${output}`))));
    child.stdin.end(input ?? '');
  });
}

async function stop(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
  await child.exited;
  clearTimeout(timer);
}

/**
 * Starts the service. `llmReachable: false` points it at a closed port instead of the simulator,
 * as when the GPU server is down: the service starts anyway and reports itself degraded.
 * `auth`: `{ mode: 'none' }` (the default), or `{ mode: 'local', users: [{login, password,
 * role}] }`, or `{ mode: 'local', setupRequired: true }` (no administrator: the first start).
 * `auth.oidc`: an async function given the service's URL (chosen before it starts, for the
 * provider's redirect URI) that answers `{ issuer, clientId, clientSecret, label, roleClaim,
 * adminValues }`: the service then offers OpenID Connect too (`TRADIA_AUTH_OIDC_*`).
 */
export async function startRealServer({ maxUploadMb = 50, llmReachable = true, auth = { mode: 'none' }, simTimeScale = null, env = {} } = {}) {
  const bin = tradiaBinary();
  if (!existsSync(bin)) {
    throw new Error(`the tradia binary was not found at ${bin}: build it (cargo build -p tradia) or set TRADIA_BIN`);
  }
  const data = mkdtempSync(path.join(tmpdir(), 'tradia-browser-data-'));
  let sim = null;
  let server = null;
  try {
    // The simulator answers like a real model, token by token and at a model's pace, so the
    // page's live progress and streaming are seen as users see them; time-scale speeds it up.
    // TRADIA_BROWSER_ENGINE=pseudo runs the service on its pseudo engine instead (no simulator).
    const engine = process.env.TRADIA_BROWSER_ENGINE ?? 'llm';
    let simUrl;
    if (engine === 'llm' && !llmReachable) {
      simUrl = `http://127.0.0.1:${await freePort()}`;
    } else if (engine === 'llm') {
      sim = start(bin, ['simulate-llm', '--host', '127.0.0.1', '--port', '0',
        '--time-scale', String(simTimeScale ?? process.env.TRADIA_SIM_TIME_SCALE ?? '4')], {});
      simUrl = await waitFor('tradia simulate-llm', sim, async () => sim.output.match(/listening on (http:\/\/[\d.:]+)/)?.[1]);
    }
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const oidc = auth.oidc ? await auth.oidc(url) : null;
    const oidcEnv = oidc ? {
      TRADIA_PUBLIC_URL: `${url}/`,
      TRADIA_AUTH_OIDC_ISSUER: oidc.issuer,
      TRADIA_AUTH_OIDC_CLIENT_ID: oidc.clientId,
      TRADIA_AUTH_OIDC_CLIENT_SECRET: oidc.clientSecret,
      TRADIA_AUTH_OIDC_LABEL: oidc.label,
      TRADIA_AUTH_OIDC_ROLE_CLAIM: oidc.roleClaim,
      TRADIA_AUTH_OIDC_ADMIN_VALUES: oidc.adminValues,
    } : {};
    const store = { ...oidcEnv, TRADIA_DATA_DIR: data, DATABASE_URL: undefined, TRADIA_AUTH: auth.mode ?? 'none' };
    for (const u of auth.setupRequired ? [] : auth.users ?? []) {
      await runToEnd(bin, ['users', 'add', u.login, ...(u.role === 'admin' ? ['--admin'] : []), '--password-stdin'],
        store, `${u.password}\n`);
    }
    server = start(bin, ['serve'], {
      ...oidcEnv,
      TRADIA_AUTH: auth.mode ?? 'none',
      TRADIA_HOST: '127.0.0.1',
      PORT: String(port),
      TRADIA_DATA_DIR: data,
      DATABASE_URL: undefined, // the embedded SQLite database in the data folder
      OLLAMA_BASE_URL: simUrl,
      MAX_UPLOAD_MB: String(maxUploadMb),
      TRADIA_ENGINE: engine,
      LOG_LEVEL: process.env.TRADIA_LOG_LEVEL ?? 'warn',
      ...env,
    });
    await waitFor('tradia serve', server, async () => {
      try { return (await fetch(`${url}/livez`)).ok; } catch { return false; }
    });
    return {
      kind: 'real',
      engine,
      url,
      simUrl,
      /** The one-time set-up token the service printed at its first start (from its log). */
      get setupToken() {
        const log = `${server.head}\n${server.output}`;
        return log.match(/[?&]setup=([A-Za-z0-9_-]+)/)?.[1] ?? null;
      },
      /** Stops the simulator, as when the GPU server goes down (the service keeps running). */
      async stopSimulator() { await stop(sim); },
      async close() {
        await stop(server);
        await stop(sim);
        rmSync(data, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stop(server);
    await stop(sim);
    rmSync(data, { recursive: true, force: true });
    throw e;
  }
}
