/**
 * This machine's measured figures (data/calibration/host.json, written by `npm run calibrate`) turned
 * into cost-model figures. The harness measures whole instructions on fixed component sets; the model
 * charges base + per-KiB, so each XSAVE-family row is a least-squares line through the four sets'
 * (bytes, cycles) points. Cycles are TSC cycles and clockGHz is the TSC rate, so ns conversions hold.
 * What user space cannot measure (XSAVES/XRSTORS, INVLPG, WRMSR, #NM) keeps its published default.
 */
import type { Calibration } from './calibration.js';
import { Figure, FigureKey, Figures } from './figures.js';

/** Bytes each harness set occupies in the standard (and, for these contiguous sets, compacted) format. */
// SDM 13.4: legacy area 512 + header 64; AVX 256 at 576; opmask 64 at 1088, ZMM_Hi256 512 at 1152,
// Hi16_ZMM 1024 at 1664; TILECFG 64 at 2752, TILEDATA 8192 at 2816.
const SET_BYTES = { x87sse: 576, avx: 832, avx512: 2688, amx: 11008 } as const;
const SET_COMPONENTS = { x87sse: 2, avx: 3, avx512: 6, amx: 8 } as const;
type SetName = keyof typeof SET_BYTES;
const SETS = Object.keys(SET_BYTES) as SetName[];

function fit(points: [number, number][]): { base: number; perKiB: number } | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p[0], 0) / n;
  const my = points.reduce((s, p) => s + p[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) * (x - mx);
  }
  if (sxx === 0) return undefined;
  const slope = Math.max(0, sxy / sxx);
  return { base: Math.max(0, my - slope * mx), perKiB: slope * 1024 };
}

const round = (x: number): number => Math.round(x * 10) / 10;

/** Replaces every figure the calibration measured; the rest stay as given. */
export function applyCalibration(f: Figures, cal: Calibration): Figures {
  const out = { ...f };
  const day = cal.date.slice(0, 10);
  const where = cal.hypervisor ? ', under a hypervisor' : '';
  const label = (how: string): string => `measured on this machine ${day} (${how}; TSC cycles${where}; data/calibration/host.json)`;
  const set = (k: FigureKey, cycles: number, how: string): void => {
    out[k] = { cycles: round(cycles), source: label(how) } satisfies Figure;
  };
  const m = (k: string): number | undefined => cal.figures[k]?.cycles;
  const line = (insn: string, state: string): [number, number][] =>
    SETS.flatMap((s): [number, number][] => {
      const c = m(`${insn}.${s}.${state}`);
      return c === undefined ? [] : [[SET_BYTES[s], c]];
    });

  set('clockGHz', cal.tscMHz / 1000, 'TSC rate against CLOCK_MONOTONIC_RAW');
  for (const k of ['fxsave', 'fxrstor', 'xgetbv1', 'pagefault', 'syscall'] as const) {
    const c = m(k);
    if (c !== undefined) set(k, c, 'median');
  }
  for (const insn of ['xsave', 'xsavec', 'xrstor'] as const) {
    const l = fit(line(insn, 'inuse'));
    if (!l) continue;
    set(`${insn}.base`, l.base, `line through ${insn} of x87/SSE, AVX, AVX-512, AMX in use`);
    set(`${insn}.perKiB`, l.perKiB, `slope of the same line`);
  }
  // XSAVEOPT: with nothing modified it writes no data (SDM 13.6), so its base is the unmodified save;
  // its per-KiB is the slope when every component was written since the last XRSTOR.
  const unmodified = SETS.map((s) => m(`xsaveopt.${s}.inuse`)).filter((c): c is number => c !== undefined);
  if (unmodified.length) set('xsaveopt.base', Math.min(...unmodified), 'XSAVEOPT right after XRSTOR, nothing modified (lowest set)');
  const mod = fit(line('xsaveopt', 'modified'));
  if (mod) set('xsaveopt.perKiB', mod.perKiB, 'slope of XSAVEOPT with every component modified');
  // XRSTOR of components in init state (XSTATE_BV clear): what each costs beyond the fixed part.
  const base = out['xrstor.base'].cycles;
  const initAmx = m('xrstor.amx.init');
  if (initAmx !== undefined) set('xrstor.perInit', Math.max(0, (initAmx - base) / SET_COMPONENTS.amx), 'XRSTOR of all AMX-set components in init state, above the fixed part, per component');
  // The bounce-buffer copies are AMX-sized (~11 KiB): L1-resident source and destination.
  const c12 = m('memcpy.12k');
  if (c12 !== undefined && c12 > 0) set('memcpy.bytesPerCycle', 12288 / c12, '12 KiB memcpy, L1-resident');
  // A pipe round trip / 2 includes one write and one read system call on top of the switch itself.
  const cs = m('ctxswitch');
  const sc = m('syscall');
  if (cs !== undefined && sc !== undefined) set('ctxswitch', Math.max(0, cs - 2 * sc), 'pipe ping-pong per switch, less its two system calls');
  const remote = m('tlbflush.remote');
  const local = m('tlbflush.local');
  if (remote !== undefined && local !== undefined) set('ipi.base', Math.max(0, remote - local), 'mprotect flush with one remote CPU interrupted, less the local-only flush');
  return out;
}

/** Whether a calibration describes the CPU at hand (same brand string, a full run). */
export function calibrationFits(cal: Calibration, brand: string): boolean {
  return !cal.quick && cal.machine.cpu.trim() === brand.trim();
}
