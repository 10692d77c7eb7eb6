/**
 * `npm run readme`: re-runs every "```console / $ switchlab …" example in README.md and writes its real
 * output under the command. test/readme.test.ts checks that the README still says what the CLI prints.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { readmeExamples, runExample } from '../test/helpers/readme.js';
import { repoPath } from '../test/helpers/paths.js';

const path = repoPath('README.md');
let text = readFileSync(path, 'utf8');
for (const ex of readmeExamples(text).reverse()) {
  const out = runExample(ex.args);
  text = text.slice(0, ex.bodyStart) + out + text.slice(ex.bodyEnd);
}
writeFileSync(path, text);
process.stdout.write(`README.md: ${readmeExamples(text).length} examples regenerated\n`);
