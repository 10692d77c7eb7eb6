import { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { InputError } from '../../arch/errors.js';
import { loadProfile } from '../../arch/profiles/index.js';
import { formatFtrace } from '../../kernel/trace/ftrace.js';
import { fpuPolicy } from '../../policies/fpu/index.js';
import { linuxDesigns } from '../../policies/index.js';
import { pkruPolicy } from '../../policies/pkru/index.js';
import { pasidPolicy } from '../../policies/pasid/index.js';
import { xbufDesign } from '../../policies/xbuf/index.js';
import { simulate } from '../../sim/simulate.js';
import { builtinScenario, builtinScenarioNames, resolveScenario } from '../../workload/scenarios.js';
import { simulateJson, simulateText } from '../../report/simulate-report.js';
import { renderTable } from '../../report/table.js';
import { toPerfetto } from '../../report/perfetto.js';
import { toJson } from '../json.js';
import { intOption } from '../options.js';

export function simulateCommand(): Command {
  return new Command('simulate')
    .description('run a scenario on the kernel model with an FPU policy and report what it cost and whether every task kept its state')
    .option('--scenario <name|file>', 'a built-in scenario or a YAML/JSON file')
    .option('--policy <name>', 'FPU policy: deferred, eager, lazy-ts, rfc-2016', 'deferred')
    .option('--cpu <profile>', 'CPU profile', 'zen4-vm')
    .option('--cpus <n>', 'number of CPUs (default: the scenario’s)')
    .option('--kernel <version>', 'Linux version of the boot configuration', '6.18')
    .option('--xbuf <design>', 'AMX buffer design: vmalloc, vmalloc-cache, percpu-bounce, kmap-window', 'vmalloc')
    .option('--pkru <policy>', 'PKRU policy: eager, xstate-eager, in-xstate', 'eager')
    .option('--pasid <policy>', 'PASID policy: gp-fixup, switch-mm, switch-mm-cmp, ipi-all', 'gp-fixup')
    .option('--seed <n>', 'seed of the run', '1')
    .option('--trace <file>', 'write every trace event as ftrace text')
    .option('--perfetto <file>', 'write a timeline for ui.perfetto.dev (Chrome JSON trace format)')
    .option('--list-scenarios', 'list the built-in scenarios')
    .option('--json', 'machine-readable output')
    .action((o: { scenario?: string; policy: string; cpu: string; cpus?: string; kernel: string; xbuf: string; pkru: string; pasid: string; seed: string; trace?: string; perfetto?: string; listScenarios?: boolean; json?: boolean }) => {
      if (o.listScenarios) {
        const rows = builtinScenarioNames().map((n) => {
          const s = builtinScenario(n)!;
          return [n, s.cpus, s.tasks.reduce((a, t) => a + t.count, 0), s.description];
        });
        process.stdout.write(o.json ? toJson(rows.map(([name, cpus, tasks, description]) => ({ name, cpus, tasks, description }))) : renderTable(['scenario', 'cpus', 'tasks', 'description'], rows));
        return;
      }
      if (!o.scenario) throw new InputError('which scenario? (--scenario NAME|FILE, or --list-scenarios)', '--scenario');
      const sc = resolveScenario(o.scenario);
      const profile = loadProfile(o.cpu);
      const policy = fpuPolicy(o.policy);
      const seed = intOption('--seed', o.seed, 0, 0xffff_ffff);
      const cpus = o.cpus === undefined ? undefined : intOption('--cpus', o.cpus, 1, 1024);
      const designs = linuxDesigns({ xbuf: xbufDesign(o.xbuf), pkru: pkruPolicy(o.pkru), pasid: pasidPolicy(o.pasid) });
      const r = simulate(profile, policy, sc, { seed, cpus, version: o.kernel, trace: o.trace !== undefined || o.perfetto !== undefined, timeline: o.perfetto !== undefined, designs });
      if (o.trace) writeFileSync(o.trace, formatFtrace(r.trace));
      if (o.perfetto) {
        const title = `switchlab simulate ${r.scenario} (${r.policy.fpu}) on ${r.cpu}, seed ${r.seed}`;
        writeFileSync(o.perfetto, JSON.stringify(toPerfetto(r.trace, { title, cpus: cpus ?? sc.cpus, startNs: 0, endNs: r.simulatedNs, annotations: r.timeline?.marks, counters: r.timeline?.samples })));
      }
      process.stdout.write(o.json ? toJson(simulateJson(r)) : simulateText(r));
    });
}
