import { Command } from 'commander';
import { loadProfile } from '../../arch/profiles/index.js';
import { columnFor, FIGURE_KEYS } from '../../cost/figures.js';
import { figuresFor } from '../../cost/profile-figures.js';
import { renderTable } from '../../report/table.js';
import { toJson } from '../json.js';

/** `switchlab costs`: every cycle figure the cost model would use for a CPU, and where it comes from. */
export function costsCommand(): Command {
  return new Command('costs')
    .description('the cycle figures the cost model uses for a CPU, each with its source')
    .option('--cpu <profile>', 'CPU profile', 'host')
    .option('--costs <file>', 'YAML/JSON overrides of cost figures')
    .option('--json', 'machine-readable output')
    .action((o: { cpu: string; costs?: string; json?: boolean }) => {
      const p = loadProfile(o.cpu);
      const f = figuresFor(p, o.costs);
      if (o.json) {
        process.stdout.write(toJson({ cpu: p.id, column: columnFor(p), figures: f }));
        return;
      }
      const rows = FIGURE_KEYS.map((k) => [k, f[k].cycles, f[k].source]);
      process.stdout.write(`cost figures for ${p.id} (class ${columnFor(p)}); cycles unless the key says otherwise\n`);
      process.stdout.write(renderTable(['key', 'value', 'source'], rows));
    });
}
