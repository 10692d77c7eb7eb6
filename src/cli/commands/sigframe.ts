import { Command } from 'commander';
import { InputError } from '../../arch/errors.js';
import { loadProfiles } from '../../arch/profiles/index.js';
import { sigframeSizes } from '../../kernel/fpu/sigframe.js';
import { XFEATURE_MASK_USER_DYNAMIC } from '../../kernel/fpu/xstate-history.js';
import { sigframeJson, sigframeText } from '../../report/profile-report.js';
import { toJson } from '../json.js';
import { collect, CPU_OPTION_HELP, maskOption } from '../options.js';
import { NEWEST_KERNEL } from '../../kernel/fpu/kernel-version.js';

export function sigframeCommand(): Command {
  return new Command('sigframe')
    .description('Linux x86-64 signal-frame sizes and AT_MINSIGSTKSZ for a CPU, XCR0 and granted dynamic features')
    .option('--cpu <profile>', CPU_OPTION_HELP, collect)
    .option('--xcr0 <hex>', 'XCR0 to assume (default: what the kernel enables on this CPU)')
    .option('--perm <features>', 'dynamic features granted by ARCH_REQ_XCOMP_PERM and in use: amx')
    .option('--kernel <version>', 'Linux version', NEWEST_KERNEL)
    .option('--json', 'machine-readable output')
    .action((o: { cpu?: string[]; xcr0?: string; perm?: string; kernel: string; json?: boolean }) => {
      const xcr0 = maskOption('--xcr0', o.xcr0);
      let granted = 0n;
      if (o.perm !== undefined) {
        for (const f of o.perm.split(',').map((s) => s.trim().toLowerCase())) {
          if (f === 'amx' || f === 'xtile' || f === 'tiledata') granted |= XFEATURE_MASK_USER_DYNAMIC;
          else if (f !== '' && f !== 'none') throw new InputError(`unknown dynamic feature '${f}' (known: amx)`, '--perm');
        }
      }
      const out = loadProfiles(o.cpu ?? ['host']).map((p) => {
        if (granted && !(p.xcr0Supported & XFEATURE_MASK_USER_DYNAMIC)) throw new InputError(`${p.id} has no AMX (CPUID 0xD.0 lacks TILEDATA)`, '--perm');
        return { p, s: sigframeSizes(p, o.kernel, { xcr0, granted }) };
      });
      if (o.json) {
        const js = out.map(({ p, s }) => sigframeJson(p.id, s));
        process.stdout.write(toJson(js.length === 1 ? js[0] : js));
      } else process.stdout.write(out.map(({ p, s }) => sigframeText(p.id, s)).join('\n'));
    });
}
