/** The README's console examples: "```console", "$ switchlab ARGS", then the command's exact output. */
import { spawnSync } from 'node:child_process';
import { repoPath } from './paths.js';

export interface ReadmeExample {
  args: string[];
  /** The recorded output. */
  expected: string;
  /** Offsets of the output in the README text (just after the "$ …" line, up to the closing fence). */
  bodyStart: number;
  bodyEnd: number;
}

export function readmeExamples(text: string): ReadmeExample[] {
  const out: ReadmeExample[] = [];
  const re = /```console\n\$ switchlab ([^\n]*)\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const bodyStart = m.index + m[0].length;
    const bodyEnd = text.indexOf('```', bodyStart);
    out.push({ args: m[1].split(/\s+/).filter(Boolean), expected: text.slice(bodyStart, bodyEnd), bodyStart, bodyEnd });
  }
  return out;
}

/** stdout of `switchlab ARGS` (the built CLI). */
export function runExample(args: string[]): string {
  const r = spawnSync(process.execPath, [repoPath('dist/src/cli/main.js'), ...args], { encoding: 'utf8' });
  // `check` exits 1 when it shows a counterexample: that is its documented output, not a failure.
  const ok = r.status === 0 || (args[0] === 'check' && r.status === 1);
  if (!ok) throw new Error(`switchlab ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}
