// A small stand-in for `tradia serve` (test-only): the web/ files plus the /api/v1 endpoints of
// issue 4 with the same shapes, and jobs that "translate" line by line on a timer. It served to
// build the pages before the service existed, and still lets them be worked on without a Rust
// build: TRADIA_BROWSER_SERVER=mock selects it (the tests use the real service by default).
// It also advertises GET /api/v1/config (limits and formats), which the service may add.
// Accounts (sign-in, CSRF, keys, administration) are in mock-auth.mjs; jobs have an owner.
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { createAccounts } from './mock-auth.mjs';

const WEB = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', json: 'application/json', svg: 'image/svg+xml' };
const LANGUAGES = [
  { code: 'fr', name: 'français', rtl: false }, { code: 'en', name: 'English', rtl: false },
  { code: 'ar', name: 'العربية', rtl: true }, { code: 'de', name: 'Deutsch', rtl: false },
  { code: 'es', name: 'español', rtl: false }, { code: 'he', name: 'עברית', rtl: true },
];
const EXTENSIONS = ['xml', 'scar', 'txt', 'md', 'html', 'docx', 'odt', 'srt', 'po'];

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A zip with stored (uncompressed) entries. */
export function zip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const nameBuf = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt16LE(0x0800, 6);
    local.writeUInt32LE(crc, 14); local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8); central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24); central.writeUInt16LE(nameBuf.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, data);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dir.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

function pseudo(line, target) { return line.trim() ? `[${target}] ${line}` : line; }

const PARA = /(<sc:para[^>]*>)([^<]*)(<\/sc:para>)/g;
/** Segments of a file: the paragraphs of a Scenari item (.xml), else the non-empty lines. */
function segments(f) {
  return f.name.endsWith('.xml') ? [...f.text.matchAll(PARA)].map((m) => m[2]) : f.text.split('\n').filter((l) => l.trim());
}
function translated(f, target) {
  return f.name.endsWith('.xml')
    ? f.text.replace(PARA, (_, open, text, close) => `${open}${pseudo(text, target)}${close}`)
    : f.text.split('\n').map((l) => pseudo(l, target)).join('\n');
}

/**
 * Starts the mock. `auth` configures accounts (see createAccounts): single-user mode by default,
 * as the real service runs for the tests that are not about accounts.
 */
export async function startMockServer({ segmentMs = 60, slowSegmentMs = 500, maxUploadMb = 1, llmReachable = true, auth = {} } = {}) {
  const accounts = createAccounts(auth);
  const jobs = new Map();
  const requests = [];

  const view = (job) => ({
    id: job.id, status: job.status, progress: { done: job.done, total: job.total },
    source_lang: job.source_lang === 'auto' ? (job.status === 'queued' ? null : 'fr') : job.source_lang,
    source_detected: job.source_lang === 'auto' && job.status !== 'queued',
    target_lang: job.target_lang, model: job.model,
    files: job.files.map((f, index) => ({ index, name: f.name, size_bytes: f.data.length, format: 'text', progress: { done: f.done, total: f.total }, done: f.done === f.total && f.total > 0, error: null, kept: f.kept.length, detected_source_lang: job.source_lang === 'auto' ? 'fr' : null })),
    kept_segments: job.files.reduce((n, f) => n + f.kept.length, 0),
    error: null, created_at: job.created_at, started_at: job.started_at, finished_at: job.finished_at, updated_at: job.updated_at,
  });
  const notify = (job) => {
    job.updated_at = new Date().toISOString();
    for (const res of job.listeners) {
      res.write(`event: progress\ndata: ${JSON.stringify(view(job))}\n\n`);
      if (['done', 'failed', 'cancelled'].includes(job.status)) {
        res.write(`event: end\ndata: ${JSON.stringify(view(job))}\n\n`);
        res.end();
      }
    }
    if (['done', 'failed', 'cancelled'].includes(job.status)) job.listeners.clear();
  };
  const run = (job) => {
    setTimeout(() => {
      if (job.status !== 'queued') return;
      job.status = 'running';
      job.started_at = new Date().toISOString();
      for (const f of job.files) {
        f.text = f.data.toString('utf8');
        f.total = segments(f).length;
      }
      job.total = job.files.reduce((s, f) => s + f.total, 0);
      notify(job);
      const slow = job.files.some((f) => f.name.includes('slow'));
      const tick = () => {
        if (job.status !== 'running') return;
        const f = job.files.find((x) => x.done < x.total);
        if (!f) {
          job.status = 'done';
          job.finished_at = new Date().toISOString();
          notify(job);
          return;
        }
        f.done += 1; job.done += 1;
        if (f.name.includes('keep') && f.done === 1) f.kept.push({ segment: 1, code: 'invalid_answer', message: 'the model answer lost an inline code' });
        notify(job);
        job.timer = setTimeout(tick, slow ? slowSegmentMs : segmentMs);
      };
      job.timer = setTimeout(tick, slow ? slowSegmentMs : segmentMs);
    }, 200);
  };

  const json = (res, status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const error = (res, status, code, message) => json(res, status, { error: { code, message } });
  const body = (req) => new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => { size += c.length; chunks.push(c); });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
  const readJson = async (req) => { try { return JSON.parse((await body(req)).toString() || '{}'); } catch { return {}; } };
  const sse = (res) => res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  const streamTokens = async (res, tokens, done) => {
    sse(res);
    for (const token of tokens) {
      res.write(`event: token\ndata: ${JSON.stringify({ text: token })}\n\n`);
      await new Promise((r) => setTimeout(r, 40));
    }
    res.write(`event: done\ndata: ${JSON.stringify(done)}\n\n`);
    res.end();
  };
  const words = (text) => text.match(/\S+\s*|\s+/g) ?? [];

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const p = url.pathname;
    requests.push(`${req.method} ${p}`);
    try {
      if (p === '/' || p.startsWith('/assets/')) {
        const file = p === '/' ? 'index.html' : p.slice('/assets/'.length);
        if (file.includes('..') || (p !== '/' && file === 'index.html')) return error(res, 404, 'not_found', 'not found');
        let data;
        try { data = await readFile(path.join(WEB, file)); } catch { return error(res, 404, 'not_found', 'not found'); }
        if (p === '/') {
          const lang = /^\s*ar/i.test(req.headers['accept-language'] ?? '') ? 'ar' : /^\s*en/i.test(req.headers['accept-language'] ?? '') ? 'en' : 'fr';
          data = data.toString().replace('__LANG__', lang).replace('__DIR__', lang === 'ar' ? 'rtl' : 'ltr');
        }
        res.writeHead(200, { 'Content-Type': TYPES[path.extname(file).slice(1)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache', 'Content-Security-Policy': CSP });
        return res.end(data);
      }
      if (p === '/healthz') {
        return json(res, 200, llmReachable ? { status: 'healthy', database: 'ok', llm: 'ok', version: 'mock' }
          : { status: 'degraded', database: 'ok', llm: 'connection refused', reason: 'LLM backend unreachable: connection refused', version: 'mock' });
      }
      if (await accounts.handle(req, res, p, { json, error, readJson })) return undefined;
      const caller = req.caller ?? null;
      if (p === '/api/v1/languages') return json(res, 200, { languages: LANGUAGES });
      if (p === '/api/v1/models') return json(res, 200, { models: [{ name: 'sim-small', backend: 'mock', default: false, vision: false }, { name: 'sim-model', backend: 'mock', default: true, vision: true }], default: 'sim-model' });
      if (p === '/api/v1/config') return json(res, 200, { max_upload_mb: maxUploadMb, max_files: 5, extensions: EXTENSIONS, auth: accounts.config() });
      if (p === '/api/v1/jobs' && req.method === 'POST') {
        const raw = await body(req);
        if (raw.length > maxUploadMb * 1024 * 1024) return error(res, 413, 'upload_too_large', `upload larger than ${maxUploadMb} MB`);
        const form = await new Request('http://x/', { method: 'POST', headers: req.headers, body: raw }).formData();
        const files = [];
        for (const f of form.getAll('file')) {
          const data = Buffer.from(await f.arrayBuffer());
          if (data.length === 0) return error(res, 400, 'empty_file', `${f.name} is empty`);
          if (f.name.endsWith('.docx') && data.subarray(0, 2).toString() !== 'PK') return error(res, 422, 'invalid_document', `${f.name} is not a valid DOCX document`);
          files.push({ name: f.name, data, done: 0, total: 0, kept: [] });
        }
        if (!files.length) return error(res, 400, 'malformed_multipart', 'no file part');
        const target = form.get('target_lang');
        const source = form.get('source_lang') ?? 'auto';
        if (source === target) return error(res, 400, 'same_language', 'same source and target');
        const now = new Date().toISOString();
        const job = { id: randomUUID(), owner: caller?.user.id ?? null, status: 'queued', done: 0, total: 0, source_lang: source, target_lang: target, model: form.get('model') || 'sim-model', files, created_at: now, started_at: null, finished_at: null, updated_at: now, listeners: new Set() };
        jobs.set(job.id, job);
        run(job);
        return json(res, 202, view(job));
      }
      if (p === '/api/v1/jobs' && req.method === 'GET') {
        const mine = [...jobs.values()].filter((j) => j.owner === (caller?.user.id ?? null)).reverse();
        const limit = Number(url.searchParams.get('limit') ?? 50);
        const before = url.searchParams.get('before');
        const from = before ? mine.findIndex((j) => j.id === before) + 1 : 0;
        const page = mine.slice(from, from + limit);
        return json(res, 200, { jobs: page.map(view), next: from + limit < mine.length ? page[page.length - 1].id : null });
      }
      const m = p.match(/^\/api\/v1\/jobs\/([\w-]+)(\/(events|result|cancel))?$/);
      if (m) {
        const action = m[3];
        const found = jobs.get(m[1]);
        // Another user's job does not exist for the caller; an administrator sees its metadata.
        const mine = found && found.owner === (caller?.user.id ?? null);
        const adminMeta = found && caller?.user.role === 'admin' && !action && req.method === 'GET';
        const job = mine || adminMeta ? found : null;
        if (!job) return error(res, 404, 'job_not_found', 'no such job');
        if (!action && req.method === 'GET') return json(res, 200, view(job));
        if (!action && req.method === 'DELETE') { clearTimeout(job.timer); jobs.delete(job.id); res.writeHead(204); return res.end(); }
        if (action === 'cancel' && req.method === 'POST') {
          if (!['done', 'failed', 'cancelled'].includes(job.status)) {
            clearTimeout(job.timer);
            job.status = 'cancelled';
            job.finished_at = new Date().toISOString();
            notify(job);
          }
          return json(res, 200, view(job));
        }
        if (action === 'events') {
          sse(res);
          res.write(`event: progress\ndata: ${JSON.stringify(view(job))}\n\n`);
          if (['done', 'failed', 'cancelled'].includes(job.status)) {
            res.write(`event: end\ndata: ${JSON.stringify(view(job))}\n\n`);
            return res.end();
          }
          job.listeners.add(res);
          req.on('close', () => job.listeners.delete(res));
          return undefined;
        }
        if (action === 'result') {
          if (job.status !== 'done') return error(res, 409, 'job_not_finished', 'job not done');
          const out = job.files.map((f) => ({ name: f.name, data: Buffer.from(translated(f, job.target_lang)) }));
          if (out.length === 1) {
            res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename="${out[0].name}"` });
            return res.end(out[0].data);
          }
          res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Disposition': 'attachment; filename="tradia-translation.zip"' });
          return res.end(zip(out));
        }
      }
      if (p === '/api/v1/translate/stream' && req.method === 'POST') {
        const input = JSON.parse((await body(req)).toString());
        if (accounts.refuseOverQuota(res, caller, [...input.text].length, error)) return undefined;
        accounts.countChars(caller, [...input.text].length);
        const text = pseudo(input.text, input.target_lang);
        return streamTokens(res, words(text), { translations: [{ text, source_lang: input.source_lang ?? 'fr', detected: !input.source_lang }] });
      }
      const a = p.match(/^\/api\/v1\/assist\/(correct|reformulate|summary)\/stream$/);
      if (a && req.method === 'POST') {
        const raw = await body(req);
        let text = '';
        if ((req.headers['content-type'] ?? '').startsWith('multipart/')) {
          const form = await new Request('http://x/', { method: 'POST', headers: req.headers, body: raw }).formData();
          text = form.get(a[1] === 'summary' ? 'notes' : 'text') ?? '(photo)';
        } else {
          const input = JSON.parse(raw.toString());
          text = a[1] === 'summary' ? input.notes : input.text;
        }
        const result = a[1] === 'correct'
          ? { corrected: text.replace(/ces/g, 'ses'), explanations: [{ original: 'ces', correction: 'ses', explanation: 'possessif' }] }
          : a[1] === 'reformulate'
            ? { text: `En bref : ${text}`, highlights: [{ text: 'En bref', reason: 'annonce la synthèse' }] }
            : { summary: `Réunion : ${text.slice(0, 40)}`, decisions: ['Adopter le calendrier'], action_items: [{ task: 'Envoyer le compte rendu', owner: 'Claire', due: 'vendredi' }] };
        const shown = result.corrected ?? result.summary ?? result.text;
        return streamTokens(res, words(shown), result);
      }
      return error(res, 404, 'not_found', `no route ${req.method} ${p}`);
    } catch (e) {
      return error(res, 500, 'internal', String(e));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    kind: 'mock',
    url: `http://127.0.0.1:${port}`,
    requests,
    accounts,
    setupToken: accounts.setupToken,
    async close() {
      for (const job of jobs.values()) { clearTimeout(job.timer); for (const r of job.listeners) r.end(); }
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // MOCK_AUTH=local|none|setup: accounts for working on the page by hand (admin / admin-password).
  const mode = process.env.MOCK_AUTH ?? 'none';
  const auth = mode === 'setup' ? { mode: 'local', setupRequired: true }
    : mode === 'local' ? { mode: 'local', users: [{ login: 'admin', password: 'admin-password', role: 'admin' }] } : { mode: 'none' };
  const s = await startMockServer({ maxUploadMb: Number(process.env.MAX_UPLOAD_MB ?? 1), auth });
  console.log(s.url);
  if (s.setupToken) console.log(`set-up token: ${s.setupToken}`);
}
