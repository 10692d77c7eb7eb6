import { Command } from 'commander';
import { computeLayout } from '../../arch/layout.js';
import { loadProfiles } from '../../arch/profiles/index.js';
import { layoutJson, layoutText } from '../../report/profile-report.js';
import { toJson } from '../json.js';
import { collect, CPU_OPTION_HELP, maskOption } from '../options.js';

export function layoutCommand(): Command {
  return new Command('layout')
    .description('XSAVE area layout: per-component size, standard, XSAVEC and XSAVES offsets, the three sizes')
    .option('--cpu <profile>', CPU_OPTION_HELP, collect)
    .option('--xcr0 <hex>', 'XCR0 (default: every user feature the CPU supports, CPUID 0xD.0 EDX:EAX)')
    .option('--xss <hex>', 'IA32_XSS (default: every supervisor feature, CPUID 0xD.1 EDX:ECX)')
    .option('--json', 'machine-readable output (an array when several profiles)')
    .action((o: { cpu?: string[]; xcr0?: string; xss?: string; json?: boolean }) => {
      const xcr0 = maskOption('--xcr0', o.xcr0);
      const xss = maskOption('--xss', o.xss);
      const layouts = loadProfiles(o.cpu ?? ['host']).map((p) => computeLayout(p, xcr0 ?? p.xcr0Supported, xss ?? p.xssSupported));
      if (o.json) process.stdout.write(toJson(layouts.length === 1 ? layoutJson(layouts[0]) : layouts.map(layoutJson)));
      else process.stdout.write(layouts.map(layoutText).join('\n'));
    });
}
