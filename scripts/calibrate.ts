/**
 * `npm run calibrate`: measures this machine's cost figures with native/calibrate.c and writes them to
 * data/calibration/host.json (src/cost/calibration.ts documents every key). `--quick`: fewer repetitions
 * (a trial run; the file records it).
 */
import { relative } from 'node:path';
import { runCalibration, writeCalibration } from '../src/cost/calibration.js';
import { renderTable } from '../src/report/table.js';
import { packagePath } from '../src/util/paths.js';

const quick = process.argv.includes('--quick');
const cal = runCalibration(new Date().toISOString(), { quick });
if ('skip' in cal) {
  process.stderr.write(`calibration not possible on this machine: ${cal.skip}\n`);
  process.exit(1);
}
const out = packagePath('data/calibration/host.json');
writeCalibration(out, cal);

const r1 = (x: number): number => Math.round(x * 10) / 10;
process.stdout.write(
  `${cal.machine.cpu}, Linux ${cal.machine.kernel}, XCR0 ${cal.xcr0}, ${cal.date}\n` +
    `TSC ${r1(cal.tscMHz)} MHz, core clock ≈ ${Math.round(cal.coreMHz)} MHz${cal.hypervisor ? ' (under a hypervisor)' : ''}` +
    `${cal.quick ? ', quick run' : ''}\n\n`,
);
process.stdout.write(
  renderTable(
    ['figure', 'TSC cycles', 'ns', 'p10', 'p90', 'n'],
    Object.entries(cal.figures).map(([k, f]) => [k, r1(f.cycles), r1(f.ns), r1(f.p10), r1(f.p90), f.n]),
  ),
);
const skipped = Object.entries(cal.skipped);
if (skipped.length) process.stdout.write('\n' + renderTable(['not measured', 'why'], skipped));
for (const n of cal.notes) process.stdout.write(`note: ${n}\n`);
process.stdout.write(`\nwritten to ${relative(process.cwd(), out) || out}\n`);
