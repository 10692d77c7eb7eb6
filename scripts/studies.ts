/**
 * `npm run studies`: re-runs the built-in studies and writes their pages to docs/studies/ (Markdown
 * with its plots in docs/studies/<name>/), so the documentation shows real, reproducible results.
 */
import { renameSync, rmSync, existsSync, mkdirSync } from 'node:fs';
import { builtinProfile } from '../src/arch/profiles/builtin.js';
import { figuresFor } from '../src/cost/profile-figures.js';
import { runStudy, STUDIES, studyProfile } from '../src/sim/studies.js';
import { writeStudyReport } from '../src/report/study-report.js';
import { repoPath } from '../test/helpers/paths.js';

const CPU = 'zen4-vm';
const RUNS = 3;
const SEED = 1;

async function main(): Promise<void> {
  const docs = repoPath('docs/studies');
  mkdirSync(docs, { recursive: true });
  for (const s of STUDIES) {
    const { profile, note } = studyProfile(s, builtinProfile(CPU)!);
    const r = runStudy(s, profile, { runs: RUNS, seed: SEED, figures: figuresFor(profile) });
    const dir = `${docs}/${s.name}`;
    if (existsSync(dir)) rmSync(dir, { recursive: true });
    const paths = await writeStudyReport(dir, r, note, `switchlab study ${s.name} --cpu ${CPU} --runs ${RUNS} --seed ${SEED}`);
    renameSync(paths.md, `${docs}/${s.name}.md`);
    rmSync(paths.html);
    process.stdout.write(`docs/studies/${s.name}.md\n`);
  }
}

void main();
