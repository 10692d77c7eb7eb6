// The README's example outputs are real: each "$ switchlab …" block equals what the CLI prints now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readmeExamples, runExample } from './helpers/readme.js';
import { repoPath } from './helpers/paths.js';

const text = readFileSync(repoPath('README.md'), 'utf8');
const examples = readmeExamples(text);

test('README: the quick start is exactly the two documented commands', () => {
  assert.match(text, /^npm ci && npm start/m);
  assert.match(text, /^npm ci && npm test/m);
  assert.ok(examples.length >= 8, `README has ${examples.length} examples`);
});

for (const ex of examples) {
  test(`README example: switchlab ${ex.args.join(' ')}`, () => {
    assert.equal(runExample(ex.args), ex.expected, 'README.md is stale: run `npm run readme`');
  });
}

test('README: every CLI command is documented with an example', () => {
  const documented = new Set(examples.map((e) => e.args[0]));
  const help = runExample(['--help']);
  const commands = [...help.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  assert.ok(commands.length >= 5, help);
  for (const c of commands) assert.ok(documented.has(c), `README has no example of switchlab ${c}`);
});
