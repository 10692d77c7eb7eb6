import { Command } from 'commander';
import { loadProfile } from '../../arch/profiles/index.js';
import { comparePolicies } from '../../sim/compare-runs.js';
import { parsePolicySets } from '../../sim/policy-spec.js';
import { resolveScenario } from '../../workload/scenarios.js';
import { compareJson, compareText } from '../../report/compare-report.js';
import { figuresFor } from '../../cost/profile-figures.js';
import { toJson } from '../json.js';
import { writeCompareReport } from '../../report/compare-files.js';
import { intOption } from '../options.js';
import { progress } from '../progress.js';
import { writeFileSync } from 'node:fs';
import { simulate } from '../../sim/simulate.js';
import { combinePerfetto, toPerfetto } from '../../report/perfetto.js';

export function compareCommand(): Command {
  return new Command('compare')
    .description('run policies on identical inputs and compare their cycles, events, bytes, memory and IPIs')
    .requiredOption('--scenario <name|file>', 'a built-in scenario or a YAML/JSON file')
    .requiredOption('--policies <list>', "comma-separated policy sets: deferred,eager,… or deferred+xbuf:percpu-bounce,…")
    .option('--cpu <profile>', 'CPU profile (host: calibrated figures when npm run calibrate has run)', 'zen4-vm')
    .option('--cpus <n>', "number of CPUs (default: the scenario's)")
    .option('--runs <n>', 'runs per policy (seeds seed..seed+runs-1)', '3')
    .option('--seed <n>', 'first seed', '1')
    .option('--kernel <version>', 'Linux version of the boot configuration', '6.18')
    .option('--costs <file>', 'YAML/JSON overrides of cost figures')
    .option('--out <dir>', 'write SVG and PNG plots and a self-contained report.html there')
    .option('--perfetto <file>', 'write the first run of every policy set as timelines, one above the other, for ui.perfetto.dev')
    .option('--quiet', 'no progress bar')
    .option('--json', 'machine-readable output')
    .action(async (o: { scenario: string; policies: string; cpu: string; cpus?: string; runs: string; seed: string; kernel: string; costs?: string; out?: string; perfetto?: string; quiet?: boolean; json?: boolean }) => {
      const sc = resolveScenario(o.scenario);
      const sets = parsePolicySets(o.policies);
      const profile = loadProfile(o.cpu);
      const runs = intOption('--runs', o.runs, 1, 1000);
      const seed = intOption('--seed', o.seed, 0, 0xffff_ffff);
      const cpus = o.cpus === undefined ? undefined : intOption('--cpus', o.cpus, 1, 1024);
      const figures = figuresFor(profile, o.costs);
      const bar = progress(sets.length * runs, o.quiet === true, 'runs');
      const c = comparePolicies(profile, sc, sets, { runs, seed, cpus, version: o.kernel, figures, onRun: (d) => bar.update(d) });
      bar.stop();
      process.stdout.write(o.json ? toJson(compareJson(c)) : compareText(c));
      if (o.out) {
        const path = await writeCompareReport(o.out, c, `switchlab compare --scenario ${o.scenario} --policies ${o.policies} --cpu ${o.cpu} --runs ${runs} --seed ${seed}`);
        if (!o.json) process.stdout.write(`\nplots and report: ${path}\n`);
      }
      if (o.perfetto) {
        // The first seed of each set again, traced (the model is deterministic: the same run).
        const parts = sets.map((set, i) => {
          const r = simulate(profile, set.fpu, sc, { seed, cpus, version: o.kernel, designs: set.designs, trace: true, timeline: true });
          return toPerfetto(r.trace, { title: set.label, pid: i + 1, processName: `${set.label} (seed ${seed})`, cpus: cpus ?? sc.cpus, startNs: 0, endNs: r.simulatedNs, annotations: r.timeline?.marks, counters: r.timeline?.samples });
        });
        writeFileSync(o.perfetto, JSON.stringify(combinePerfetto(`switchlab compare --scenario ${o.scenario} --policies ${o.policies}`, parts)));
      }
    });
}
