import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { InputError } from '../../arch/errors.js';
import { runSweep } from '../../sim/sweep-run.js';
import { loadSweep, METRICS, parameterDocs, SweepPlot } from '../../sim/sweep-spec.js';
import { sweepTable, writeSweepPlots } from '../../report/sweep-report.js';
import { renderTable } from '../../report/table.js';
import { toJson } from '../json.js';
import { intOption } from '../options.js';
import { progress } from '../progress.js';

function parsePlot(spec: string, params: string[]): SweepPlot {
  const m = /^([^:]+):([^:]+)$/.exec(spec);
  if (!m) throw new InputError(`'${spec}' is not METRIC:PARAMETER (e.g. cycles.total:cpus)`, '--plot');
  if (!METRICS.includes(m[1])) throw new InputError(`unknown metric '${m[1]}' (known: ${METRICS.join(', ')})`, '--plot');
  if (!params.includes(m[2])) throw new InputError(`'${m[2]}' is not a parameter of this sweep (${params.join(', ')})`, '--plot');
  return { y: m[1], x: m[2] };
}

export function sweepCommand(): Command {
  return new Command('sweep')
    .description('run a scenario over a grid of parameters (YAML) for every policy set, in parallel, resumable; plot any metric against any parameter')
    .argument('[file]', 'sweep file (YAML/JSON): scenario, cpu, policies, runs, seed, parameters, plots')
    .option('--out <dir>', 'results.jsonl, plots and report.html go here (default: sweeps/NAME)')
    .option('--jobs <n>', 'worker threads (default: every core)')
    .option('--max-points <n>', 'compute at most this many new results now (resume later)')
    .option('--fresh', 'discard earlier results in the output directory and start over')
    .option('--plot <metric:param...>', 'plot these instead of the file’s plots, e.g. counts.nmTraps:amxShare')
    .option('--list-parameters', 'the parameters a sweep can vary')
    .option('--quiet', 'no progress bar')
    .option('--json', 'machine-readable output')
    .action(async (file: string | undefined, o: { out?: string; jobs?: string; maxPoints?: string; fresh?: boolean; plot?: string[]; listParameters?: boolean; quiet?: boolean; json?: boolean }) => {
      if (o.listParameters) {
        process.stdout.write(o.json ? toJson(Object.fromEntries(parameterDocs())) : renderTable(['parameter', 'what it changes'], parameterDocs()));
        return;
      }
      if (!file) throw new InputError('which sweep file? (switchlab sweep FILE, or --list-parameters)', 'sweep');
      const s = loadSweep(file);
      const plots = o.plot ? o.plot.map((p) => parsePlot(p, s.params.map(([k]) => k))) : s.plots;
      const jobs = o.jobs === undefined ? availableParallelism() : intOption('--jobs', o.jobs, 1, 256);
      const maxPoints = o.maxPoints === undefined ? undefined : intOption('--max-points', o.maxPoints, 0, 1_000_000);
      const out = o.out ?? `sweeps/${s.name}`;
      const npoints = s.params.reduce((n, [, v]) => n * v.length, 1);
      const total = npoints * s.policies.length;
      const bar = progress(total, o.quiet === true, 'results');
      const r = await runSweep(s, { out, jobs, maxPoints, fresh: o.fresh === true, onResult: (d) => bar.update(d) });
      bar.stop();
      const files = r.complete ? await writeSweepPlots(s, r.lines, plots, out, `switchlab sweep ${file}`) : [];
      if (o.json) {
        process.stdout.write(toJson({ sweep: s.name, hash: s.hash, total: r.total, resumed: r.resumed, ran: r.ran, complete: r.complete, results: r.file, files }));
        return;
      }
      const lines = [
        `sweep ${s.name}: ${npoints} point(s) × ${s.policies.length} policy set(s) = ${total} results, ${s.runs} run(s) each from seed ${s.seed}, scenario ${s.scenario.name} on ${s.cpu}`,
        `${r.resumed} already in ${r.file}${r.droppedPartial ? ' (an interrupted last line was dropped)' : ''}, ${r.ran} computed now`,
      ];
      process.stdout.write(lines.join('\n') + '\n\n');
      if (r.lines.length) process.stdout.write(`${plots[0].y}\n${sweepTable(s, r.lines, plots[0].y)}\n`);
      if (r.complete) process.stdout.write(`plots and report: ${files.filter((f) => !f.endsWith('.png')).join(', ')}\n`);
      else process.stdout.write(`incomplete: ${r.lines.length} of ${total} results; run the same command again to resume\n`);
    });
}
