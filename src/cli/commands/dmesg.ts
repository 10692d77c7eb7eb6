import { Command } from 'commander';
import { loadProfile } from '../../arch/profiles/index.js';
import { bootLines, sigframeBootLine } from '../../kernel/fpu/bootlog.js';
import { NEWEST_KERNEL } from '../../kernel/fpu/kernel-version.js';
import { toJson } from '../json.js';

export function dmesgCommand(): Command {
  return new Command('dmesg')
    .description('the x86/fpu: boot lines Linux prints on a CPU (and "signal: max sigframe size", 5.14+)')
    .option('--cpu <profile>', 'host, a built-in name or a CPUID file', 'host')
    .option('--kernel <version>', `Linux version, 4.0 .. ${NEWEST_KERNEL}`, NEWEST_KERNEL)
    .option('--noxsave', 'boot with noxsave')
    .option('--noxsaves', 'boot with noxsaves')
    .option('--nopku', 'a kernel without protection keys')
    .option('--json', 'machine-readable output')
    .action((o: { cpu: string; kernel: string; noxsave?: boolean; noxsaves?: boolean; nopku?: boolean; json?: boolean }) => {
      const p = loadProfile(o.cpu);
      const opts = { noxsave: o.noxsave, noxsaves: o.noxsaves, nopku: o.nopku };
      const lines = bootLines(p, o.kernel, opts);
      const sig = sigframeBootLine(p, o.kernel, opts);
      if (o.json) process.stdout.write(toJson({ cpu: p.id, kernel: o.kernel, lines, signal: sig }));
      else process.stdout.write([...lines, ...(sig ? [sig] : [])].join('\n') + '\n');
    });
}
