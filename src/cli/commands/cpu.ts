import { Command } from 'commander';
import { loadProfiles } from '../../arch/profiles/index.js';
import { cpuJson, cpuText } from '../../report/profile-report.js';
import { toJson } from '../json.js';
import { collect, CPU_OPTION_HELP } from '../options.js';

export function cpuCommand(): Command {
  return new Command('cpu')
    .description("a CPU profile's XSAVE-relevant features and state components")
    .option('--cpu <profile>', CPU_OPTION_HELP, collect)
    .option('--json', 'machine-readable output')
    .action((o: { cpu?: string[]; json?: boolean }) => {
      const ps = loadProfiles(o.cpu ?? ['host']);
      if (o.json) process.stdout.write(toJson(ps.length === 1 ? cpuJson(ps[0]) : ps.map(cpuJson)));
      else process.stdout.write(ps.map(cpuText).join('\n'));
    });
}
