/**
 * XSAVE-family programs run both on the real CPU (native/xsave-harness.c) and on the model, and the
 * binary codec between this test and the harness.
 */
import { createArea, writeAreaBytes, XsaveArea } from '../../src/arch/xsave/area.js';
import { XMachine } from '../../src/arch/xsave/machine.js';
import { enabledXState } from '../../src/arch/xsave/state.js';
import { fxrstor, fxsave, xrstor, xsave, xsavec, xsaveopt } from '../../src/arch/xsave/instructions.js';
import { xgetbv } from '../../src/arch/xsave/control.js';
import { Fault } from '../../src/arch/xsave/fault.js';

export const enum Op {
  XSAVE = 1,
  XSAVEOPT = 2,
  XSAVEC = 3,
  XRSTOR = 4,
  FXSAVE = 5,
  FXRSTOR = 6,
  XGETBV = 7,
  POKE = 8,
}

export const OP_NAMES: Record<number, string> = { 1: 'XSAVE', 2: 'XSAVEOPT', 3: 'XSAVEC', 4: 'XRSTOR', 5: 'FXSAVE', 6: 'FXRSTOR', 7: 'XGETBV', 8: 'poke' };

export interface HwBuffer {
  misalign: number;
  bytes: Uint8Array;
}
export interface HwStep {
  op: Op;
  buf: number;
  eax: number;
  edx: number;
  arg: number;
  arg2: number;
}
export interface HwCase {
  kind: string;
  bufs: HwBuffer[];
  steps: HwStep[];
}
export interface HwResult {
  faultStep: number | null;
  /** Signal number for real runs; for the model, the fault vector mapped to the signal Linux sends. */
  signo: number;
  reads: bigint[];
  bufs: Uint8Array[];
  /** Model only: the fault's reason. */
  reason?: string;
}
export interface HwHeader {
  mxcsrMask: number;
  xcr0: bigint;
  xinuse: bigint;
  /** getauxval(AT_MINSIGSTKSZ) as the kernel gave it to the harness (0 before Linux 5.14). */
  minSigStkSz: bigint;
}

const SIGILL = 4;
const SIGSEGV = 11;

export function step(op: Op, buf = 0, eax = 0xffff_ffff, edx = 0xffff_ffff, arg = 0, arg2 = 0): HwStep {
  return { op, buf, eax, edx, arg, arg2 };
}

export function encodeCases(cases: HwCase[]): Uint8Array {
  let n = 8;
  for (const c of cases) {
    n += 8 + c.steps.length * 24;
    for (const b of c.bufs) n += 8 + b.bytes.length;
  }
  const out = new Uint8Array(n);
  const dv = new DataView(out.buffer);
  let o = 0;
  const u32 = (v: number): void => {
    dv.setUint32(o, v >>> 0, true);
    o += 4;
  };
  out.set([0x53, 0x4c, 0x48, 0x57], 0); // "SLHW"
  o = 4;
  u32(cases.length);
  for (const c of cases) {
    u32(c.bufs.length);
    u32(c.steps.length);
    for (const b of c.bufs) {
      u32(b.misalign);
      u32(b.bytes.length);
      out.set(b.bytes, o);
      o += b.bytes.length;
    }
    for (const s of c.steps) {
      u32(s.op);
      u32(s.buf);
      u32(s.eax);
      u32(s.edx);
      u32(s.arg);
      u32(s.arg2);
    }
  }
  return out;
}

export function decodeResults(data: Uint8Array, cases: HwCase[]): { header: HwHeader; results: HwResult[] } {
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let o = 0;
  const u32 = (): number => {
    const v = dv.getUint32(o, true);
    o += 4;
    return v;
  };
  const u64 = (): bigint => {
    const v = dv.getBigUint64(o, true);
    o += 8;
    return v;
  };
  if (u32() !== 0x52484c53) throw new Error('harness output: bad magic');
  const header = { mxcsrMask: u32(), xcr0: u64(), xinuse: u64(), minSigStkSz: u64() };
  const results: HwResult[] = [];
  for (const c of cases) {
    const fs = u32();
    const signo = u32();
    const nr = u32();
    const reads: bigint[] = [];
    for (let k = 0; k < nr; k++) reads.push(u64());
    const bufs: Uint8Array[] = [];
    for (const b of c.bufs) {
      bufs.push(data.slice(o, o + b.bytes.length));
      o += b.bytes.length;
    }
    results.push({ faultStep: fs === 0xffff_ffff ? null : fs, signo: fs === 0xffff_ffff ? 0 : signo, reads, bufs });
  }
  if (o !== data.length) throw new Error(`harness output: ${data.length - o} trailing bytes`);
  return { header, results };
}

/** Linear address of buffer k in the model: distinct per buffer, with the case's misalignment. */
function addressOf(k: number, misalign: number): number {
  return 0x10_0000 * (k + 1) + misalign;
}

function signalFor(f: Fault): number {
  return f.vector === '#UD' ? SIGILL : SIGSEGV;
}

/** Runs a case on the model of a CPU whose OS set XCR0 = `xcr0`, in user mode (CPL 3). */
export function runOnModel(m: XMachine, xcr0: bigint, c: HwCase): HwResult {
  const s = enabledXState(xcr0, 0n, 3);
  const areas: XsaveArea[] = c.bufs.map((b, k) => {
    const a = createArea(addressOf(k, b.misalign), 0);
    a.bytes = b.bytes.slice();
    return a;
  });
  const reads: bigint[] = [];
  for (let k = 0; k < c.steps.length; k++) {
    const st = c.steps[k];
    const a = areas[st.buf];
    let f: Fault | null = null;
    switch (st.op) {
      case Op.XSAVE:
        f = xsave(m, s, a, st.eax, st.edx);
        break;
      case Op.XSAVEOPT:
        f = xsaveopt(m, s, a, st.eax, st.edx);
        break;
      case Op.XSAVEC:
        f = xsavec(m, s, a, st.eax, st.edx);
        break;
      case Op.XRSTOR:
        f = xrstor(m, s, a, st.eax, st.edx);
        break;
      case Op.FXSAVE:
        f = fxsave(m, s, a);
        break;
      case Op.FXRSTOR:
        f = fxrstor(m, s, a);
        break;
      case Op.XGETBV: {
        const r = xgetbv(m, s, st.eax);
        if (r.fault) f = r.fault;
        else reads.push(r.value);
        break;
      }
      case Op.POKE: {
        // An ordinary store into the area (the software obligation XSAVEOPT relies on is broken on purpose).
        writeAreaBytes(a, st.arg, new Uint8Array([st.arg2 & 0xff]));
        break;
      }
    }
    if (f) return { faultStep: k, signo: signalFor(f), reads, bufs: areas.map((x) => x.bytes), reason: `${f.vector} ${f.reason}` };
  }
  return { faultStep: null, signo: 0, reads, bufs: areas.map((x) => x.bytes) };
}
