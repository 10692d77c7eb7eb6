/**
 * The differential comparison: the same programs on the real CPU and on the model, byte for byte.
 *
 * The hardware is run twice; a case whose two runs disagree was disturbed (a context switch or a
 * kernel FPU section in the middle of it makes Linux save and restore our registers, which changes
 * XINUSE and XRSTOR_INFO), and is re-run until two consecutive runs agree.
 */
import { XMachine } from '../../src/arch/xsave/machine.js';
import { runOnHardware } from './harness.js';
import { HwCase, HwResult, OP_NAMES, runOnModel } from './program.js';

export interface Mismatch {
  index: number;
  kind: string;
  program: string;
  diffs: string[];
}

export interface DifferentialReport {
  cases: number;
  mismatches: Mismatch[];
  /** Cases whose hardware runs disagreed at first and were re-run. */
  rerun: number;
  /** Cases that never produced two agreeing hardware runs (excluded, and counted). */
  unstable: number;
  byKind: Record<string, number>;
}

function sameResult(a: HwResult, b: HwResult): boolean {
  if (a.faultStep !== b.faultStep || a.signo !== b.signo || a.reads.join() !== b.reads.join()) return false;
  for (let j = 0; j < a.bufs.length; j++) {
    const x = a.bufs[j];
    const y = b.bufs[j];
    for (let o = 0; o < x.length; o++) if (x[o] !== y[o]) return false;
  }
  return true;
}

function hex(b: Uint8Array, offs: number[]): string {
  return offs.map((o) => b[o].toString(16).padStart(2, '0')).join(' ');
}

export function describeDiffs(hw: HwResult, model: HwResult): string[] {
  const d: string[] = [];
  if (hw.faultStep !== model.faultStep || hw.signo !== model.signo)
    d.push(`fault: cpu step ${hw.faultStep} signal ${hw.signo}; model step ${model.faultStep} signal ${model.signo} (${model.reason ?? 'no fault'})`);
  if (hw.reads.join() !== model.reads.join())
    d.push(`XGETBV: cpu ${hw.reads.map((x) => '0x' + x.toString(16))}; model ${model.reads.map((x) => '0x' + x.toString(16))}`);
  for (let j = 0; j < hw.bufs.length; j++) {
    const offs: number[] = [];
    for (let o = 0; o < hw.bufs[j].length; o++) if (hw.bufs[j][o] !== model.bufs[j][o]) offs.push(o);
    if (offs.length) d.push(`buffer ${j}: ${offs.length} bytes differ from offset ${offs[0]}; cpu [${hex(hw.bufs[j], offs.slice(0, 8))}] model [${hex(model.bufs[j], offs.slice(0, 8))}]`);
  }
  return d;
}

export function programText(c: HwCase): string {
  return c.steps
    .map((s) => (s.op === 7 ? `XGETBV(${s.eax})` : s.op === 8 ? `poke(buf${s.buf}+${s.arg})` : `${OP_NAMES[s.op]}(buf${s.buf}, rfbm=0x${s.eax.toString(16)})`))
    .join('; ');
}

export function runDifferential(harness: string, m: XMachine, xcr0: bigint, cases: HwCase[]): DifferentialReport {
  const first = runOnHardware(harness, cases).results;
  const second = runOnHardware(harness, cases).results;
  const stable: Array<HwResult | null> = first.map((r, k) => (sameResult(r, second[k]) ? r : null));
  let pending = stable.map((r, k) => (r ? -1 : k)).filter((k) => k >= 0);
  const rerun = pending.length;
  for (let attempt = 0; attempt < 6 && pending.length > 0; attempt++) {
    const sub = pending.map((k) => cases[k]);
    const a = runOnHardware(harness, sub).results;
    const b = runOnHardware(harness, sub).results;
    pending.forEach((k, j) => {
      if (sameResult(a[j], b[j])) stable[k] = a[j];
    });
    pending = pending.filter((k) => stable[k] === null);
  }
  const mismatches: Mismatch[] = [];
  const byKind: Record<string, number> = {};
  cases.forEach((c, k) => {
    byKind[c.kind.replace(/ \(.*\)$/, '')] = (byKind[c.kind.replace(/ \(.*\)$/, '')] ?? 0) + 1;
    const hw = stable[k];
    if (!hw) return;
    const model = runOnModel(m, xcr0, c);
    const diffs = describeDiffs(hw, model);
    if (diffs.length) mismatches.push({ index: k, kind: c.kind, program: programText(c), diffs });
  });
  return { cases: cases.length, mismatches, rerun, unstable: pending.length, byKind };
}
