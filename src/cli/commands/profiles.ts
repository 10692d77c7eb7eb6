import { Command } from 'commander';
import { builtinProfile, builtinProfiles } from '../../arch/profiles/builtin.js';
import { hex } from '../../arch/mask.js';
import { renderTable } from '../../report/table.js';
import { toJson } from '../json.js';

export function profilesCommand(): Command {
  return new Command('profiles')
    .description('list the built-in CPU profiles (each generated from a real CPUID dump in data/)')
    .option('--json', 'machine-readable output')
    .action((o: { json?: boolean }) => {
      const rows = builtinProfiles().map((e) => {
        const p = builtinProfile(e.name)!;
        return { name: e.name, brand: p.brand, xcr0: p.xcr0Supported, xss: p.xssSupported, file: `data/${e.file}`, summary: e.summary };
      });
      if (o.json) process.stdout.write(toJson(rows));
      else
        process.stdout.write(
          renderTable(
            ['name', 'CPU', 'XCR0 max', 'XSS max', 'source dump'],
            rows.map((r) => [r.name, r.brand, hex(r.xcr0), hex(r.xss), r.file]),
          ) + 'Also: --cpu host (this machine), or a file or directory of CPUID dumps (JSON, InstLatx64 text, cpuid -r).\n',
        );
    });
}
