/** Running the built CLI as a user does, and checking the bad-input contract. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { repoPath } from './paths.js';

const CLI = repoPath('dist/src/cli/main.js');

export function runCli(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** Bad input: exit code 2, nothing on stdout, one line on stderr matching `re`, no stack trace. */
export function assertBadInput(args: string[], re: RegExp): void {
  const r = runCli(...args);
  assert.equal(r.code, 2, `exit code of ${args.join(' ')}: ${r.err}`);
  assert.equal(r.out, '');
  const lines = r.err.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.err}`);
  assert.match(lines[0], re);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
}
