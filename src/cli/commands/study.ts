import { Command } from 'commander';
import { InputError } from '../../arch/errors.js';
import { loadProfile } from '../../arch/profiles/index.js';
import { figuresFor } from '../../cost/profile-figures.js';
import { runStudy, STUDIES, studyDef, studyProfile } from '../../sim/studies.js';
import { studyText, writeStudyReport } from '../../report/study-report.js';
import { toJson } from '../json.js';
import { intOption } from '../options.js';
import { progress } from '../progress.js';

export function studyCommand(): Command {
  return new Command('study')
    .description(`answer a seed's question with numbers: ${STUDIES.map((s) => s.name).join(', ')}`)
    .argument('<name>', STUDIES.map((s) => s.name).join(' | '))
    .option('--cpu <profile>', 'CPU profile (host: calibrated figures when npm run calibrate has run)', 'host')
    .option('--runs <n>', 'runs per policy and scenario', '2')
    .option('--seed <n>', 'first seed', '1')
    .option('--costs <file>', 'YAML/JSON overrides of cost figures')
    .option('--out <dir>', 'where the report goes (plots, report.html, README.md)', 'reports')
    .option('--quiet', 'no progress bar')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { cpu: string; runs: string; seed: string; costs?: string; out: string; quiet?: boolean; json?: boolean }) => {
      const def = studyDef(name);
      if (!def) throw new InputError(`unknown study '${name}' (known: ${STUDIES.map((s) => s.name).join(', ')})`, 'study');
      const { profile, note } = studyProfile(def, loadProfile(o.cpu));
      const runs = intOption('--runs', o.runs, 1, 100);
      const seed = intOption('--seed', o.seed, 0, 0xffff_ffff);
      const figures = figuresFor(profile, o.costs);
      const total = def.policies.split(',').length * runs * (def.scenarios.length * (1 + 2 * def.sensitive.length) + (def.sweep?.values.length ?? 0));
      const bar = progress(total, o.quiet === true, 'runs');
      let done = 0;
      const r = runStudy(def, profile, { runs, seed, figures, onRun: () => bar.update(++done) });
      bar.stop();
      const dir = `${o.out}/${def.name}`;
      const gen = `switchlab study ${name} --cpu ${o.cpu} --runs ${runs} --seed ${seed}`;
      const paths = await writeStudyReport(dir, r, note, gen);
      if (o.json) {
        process.stdout.write(
          toJson({
            study: def.name,
            cpu: r.cpu,
            runs,
            seed,
            verdicts: r.verdicts.map((v) => ({ scenario: v.scenario, cost: v.cost, winner: v.winner, broken: v.broken, sensitivity: v.sensitivity })),
            sweep: r.sweep,
            report: paths.html,
          }),
        );
      } else process.stdout.write(studyText(r, note) + `\nreport: ${paths.html} (and ${paths.md})\n`);
    });
}
