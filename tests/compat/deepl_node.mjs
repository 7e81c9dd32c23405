// The official deepl-node client, unchanged, against Tradia's DeepL API (started by
// crates/server/tests/compat.rs with the LLM simulator): texts here, asserted on the returned
// objects; documents translated from and to the paths the test gives, which the test then reads.
// Prints ALL PASSED at the end.
import assert from 'node:assert/strict';
import * as deepl from 'deepl-node';

const { TRADIA_URL, TRADIA_KEY, TRADIA_SMALL_QUOTA_KEY, TRADIA_DOCS } = process.env;
const options = { serverUrl: TRADIA_URL, maxRetries: 1, minTimeout: 30000 };
const translator = new deepl.Translator(TRADIA_KEY, options);

const accents = { a: 'á', e: 'é', i: 'í', o: 'ó', u: 'ú', y: 'ý', c: 'ç', n: 'ñ',
  A: 'Á', E: 'É', I: 'Í', O: 'Ó', U: 'Ú', Y: 'Ý', C: 'Ç', N: 'Ñ' };
const pseudo = (text) => `⟦${[...text.trim()].map((c) => accents[c] ?? c).join('')}⟧`;
const ok = (what) => console.log('ok:', what);

let result = await translator.translateText('Hello world, this is a test.', 'en', 'de');
assert.equal(result.text, pseudo('Hello world, this is a test.'));
assert.equal(result.detectedSourceLang, 'en');
assert.equal(result.billedCharacters, 28);
ok(`with source: ${result.text}`);

const results = await translator.translateText(
  ['Bonjour tout le monde, ceci est un essai de traduction.', 'Das ist ein ganz normaler deutscher Satz.'],
  null, 'en-GB', { formality: 'prefer_more' });
assert.deepEqual(results.map((r) => r.detectedSourceLang), ['fr', 'de']);
assert.equal(results[0].text, pseudo('Bonjour tout le monde, ceci est un essai de traduction.'));
ok('detected, two texts, formality');

result = await translator.translateText('Press <b>the red</b> button.', 'en', 'es', { tagHandling: 'xml' });
assert.ok(result.text.includes(`<b>${pseudo('the red')}</b>`), result.text);
ok(`xml: ${result.text}`);

const targets = await translator.getTargetLanguages();
assert.ok(targets.some((l) => l.code === 'en-GB' && l.supportsFormality));
const usage = await translator.getUsage();
assert.ok(usage.character.count > 0);
ok(`languages and usage (${usage.character.count} characters)`);

await assert.rejects(new deepl.Translator('tdk_wrong', options).translateText('Hi', null, 'de'),
  deepl.AuthorizationError);
await assert.rejects(new deepl.Translator(TRADIA_SMALL_QUOTA_KEY, options).translateText('x'.repeat(60), null, 'de'),
  deepl.QuotaExceededError);
await assert.rejects(translator.translateText('Hi', null, 'xx'), deepl.DeepLError);
ok('bad key, quota, unsupported language');

for (const [name, target] of [['letter.docx', 'de'], ['slides.pptx', 'fr']]) {
  const status = await translator.translateDocument(`${TRADIA_DOCS}/${name}`, `${TRADIA_DOCS}/out-${name}`, 'en', target);
  assert.ok(status.ok() && status.done(), `${name}: ${status.status}`);
  ok(`document ${name}`);
}
console.log('ALL PASSED');
