/**
 * Targeted hardware probes (scratch): crafted XRSTOR images and saves, run on this CPU and on the model,
 * printing both. Usage: node dist/scripts/hwprobe.js <experiment>
 */
import { loadProfile } from '../src/arch/profiles/index.js';
import { createMachine } from '../src/arch/xsave/machine.js';
import { buildHarness, runOnHardware } from '../test/hw/harness.js';
import { HwCase, HwResult, Op, runOnModel, step } from '../test/hw/program.js';
import { describeDiffs } from '../test/hw/differential.js';

const built = buildHarness();
if (!('path' in built)) throw new Error(built.skip);
const h = built;
const probe = runOnHardware(h.path, []).header;
const p = loadProfile('host');
const m = createMachine(p);
const XCR0 = probe.xcr0;
const BUF = 12288;
const CFG = 2752;
const TD = 2816;

function u32(b: Uint8Array, o: number, v: number): void {
  new DataView(b.buffer, b.byteOffset).setUint32(o, v >>> 0, true);
}
function u64(b: Uint8Array, o: number, v: bigint): void {
  new DataView(b.buffer, b.byteOffset).setBigUint64(o, BigInt.asUintN(64, v), true);
}
function r64(b: Uint8Array, o: number): bigint {
  return new DataView(b.buffer, b.byteOffset).getBigUint64(o, true);
}
function hx(b: Uint8Array, f: number, t: number): string {
  return Buffer.from(b.slice(f, t)).toString('hex');
}

/** A standard-format image: x87 init-valued, MXCSR default, zeros elsewhere, XSTATE_BV = bv. */
function image(bv: number, mxcsr = 0x1f80): Uint8Array {
  const b = new Uint8Array(BUF);
  b[0] = 0x7f;
  b[1] = 0x03;
  u32(b, 24, mxcsr);
  u32(b, 512, bv);
  return b;
}
function sentinel(fill = 0xa5): Uint8Array {
  const b = new Uint8Array(BUF).fill(fill);
  b.fill(0, 512, 576);
  return b;
}

interface Probe {
  name: string;
  c: HwCase;
  show: (r: HwResult) => string;
}
const probes: Probe[] = [];
function add(name: string, bufs: Uint8Array[], steps: HwCase['steps'], show: (r: HwResult) => string): void {
  probes.push({ name, c: { kind: name, bufs: bufs.map((bytes) => ({ misalign: 0, bytes })), steps }, show });
}
const rd = (r: HwResult): string => `fault=${r.faultStep} xgetbv1=[${r.reads.map((x) => x.toString(16)).join(',')}]`;

function run(): void {
  const hw = runOnHardware(h.path, probes.map((x) => x.c)).results;
  const hw2 = runOnHardware(h.path, probes.map((x) => x.c)).results;
  probes.forEach((x, k) => {
    const md = runOnModel(m, XCR0, x.c);
    const stable = describeDiffs(hw[k], hw2[k]).length === 0 ? '' : ' (UNSTABLE)';
    const d = describeDiffs(hw[k], md);
    console.log(`${x.name}${stable}\n  cpu:   ${rd(hw[k])} ${x.show(hw[k])}\n  model: ${rd(md)} ${x.show(md)}${d.length ? '\n  DIFF ' + d.join('\n  DIFF ') : ''}`);
  });
}

const exp = process.argv[2] ?? 'sse';
const ALL = 0xffff_ffff;
const hdr = (j: number) => (r: HwResult): string => `bv=${hx(r.bufs[j], 512, 520)} xc=${hx(r.bufs[j], 520, 528)}`;

if (exp === 'sse') {
  // XINUSE[1] vs MXCSR and XMM values; also XINUSE after loading zero values.
  for (const [bv, mx, xmm] of [
    [0, 0x1f80, 0],
    [0, 0x1f81, 0],
    [0, 0x9f80, 0],
    [2, 0x1f80, 0],
    [2, 0x1f81, 0],
    [2, 0x1f80, 1],
    [4, 0x1f80, 0],
    [4, 0x1f81, 0],
    [1, 0x1f80, 0],
    [0x20, 0x1f80, 0],
    [0x40, 0x1f80, 0],
    [0x80, 0x1f80, 0],
    [0x20000, 0x1f80, 0],
    [0x40000, 0x1f80, 0],
  ]) {
    const img = image(bv, mx);
    if (xmm) img[160] = 1;
    add(`XRSTOR bv=${bv.toString(16)} mxcsr=${mx.toString(16)} xmm=${xmm}; XGETBV1; XSAVEC all`, [img, sentinel()], [step(Op.XRSTOR, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVEC, 1, ALL, 0)], hdr(1));
  }
  // MXCSR changes through a partial XRSTOR with RFBM = AVX only (standard form loads MXCSR when RFBM[2]).
  add('XRSTOR all init; XRSTOR rfbm=4 mx=1f81; XGETBV1', [image(0), image(0, 0x1f81), sentinel()], [step(Op.XRSTOR, 0), step(Op.XRSTOR, 1, 4, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVEC, 2, ALL, 0)], hdr(2));
  // FXRSTOR with MXCSR != default and zero XMM
  {
    const fx = image(0, 0x1f81);
    add('XRSTOR all init; FXRSTOR mx=1f81 xmm=0; XGETBV1; XSAVEOPT', [image(0), fx, sentinel()], [step(Op.XRSTOR, 0), step(Op.FXRSTOR, 1), step(Op.XGETBV, 0, 1), step(Op.XSAVEOPT, 2, ALL, 0)], hdr(2));
    const fx2 = image(0, 0x1f80);
    add('XRSTOR all init; FXRSTOR mx=1f80 xmm=0; XGETBV1; XSAVEOPT', [image(0), fx2, sentinel()], [step(Op.XRSTOR, 0), step(Op.FXRSTOR, 1), step(Op.XGETBV, 0, 1), step(Op.XSAVEOPT, 2, ALL, 0)], hdr(2));
    const fx3 = image(0, 0x1f80);
    fx3[0] = 0x7e;
    add('XRSTOR all init; FXRSTOR x87 FCW=37e; XGETBV1', [image(0), fx3, sentinel()], [step(Op.XRSTOR, 0), step(Op.FXRSTOR, 1), step(Op.XGETBV, 0, 1), step(Op.XSAVEOPT, 2, ALL, 0)], hdr(2));
  }
  // XSAVEOPT/XSAVE with MXCSR != default and XMM init: what is XSTATE_BV[1]?
  add('XRSTOR bv=0 mx=1f81; XSAVE rfbm=2', [image(0, 0x1f81), sentinel()], [step(Op.XRSTOR, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVE, 1, 2, 0)], (r) => `${hdr(1)(r)} mx=${hx(r.bufs[1], 24, 32)} xmm0=${hx(r.bufs[1], 160, 176)}`);
  add('XRSTOR bv=0 mx=1f81; XSAVEOPT rfbm=2 other addr', [image(0, 0x1f81), sentinel()], [step(Op.XRSTOR, 0), step(Op.XSAVEOPT, 1, 2, 0)], (r) => `${hdr(1)(r)} mx=${hx(r.bufs[1], 24, 32)} xmm0=${hx(r.bufs[1], 160, 176)}`);
}

/** A valid palette-1 config: tiles 0..n-1 with `rows` x `colsb`. */
function tilecfg(palette: number, n: number, rows: number, colsb: number, startRow = 0): Uint8Array {
  const c = new Uint8Array(64);
  c[0] = palette;
  c[1] = startRow;
  for (let t = 0; t < n; t++) {
    c[16 + 2 * t] = colsb & 0xff;
    c[17 + 2 * t] = colsb >>> 8;
    c[48 + t] = rows;
  }
  return c;
}

if (exp === 'amx') {
  const show = (j: number) => (r: HwResult): string => `${hdr(j)(r)} cfg=${hx(r.bufs[j], CFG, CFG + 64)} td=${hx(r.bufs[j], TD, TD + 8)}..${hx(r.bufs[j], TD + 8184, TD + 8192)}`;
  const cfgs: Array<[string, Uint8Array]> = [
    ['zero', new Uint8Array(64)],
    ['p1 1x16x64', tilecfg(1, 1, 16, 64)],
    ['p1 8x16x64', tilecfg(1, 8, 16, 64)],
    ['p1 8x16x64 start_row=3', tilecfg(1, 8, 16, 64, 3)],
    ['p1 8x16x64 start_row=200', tilecfg(1, 8, 16, 64, 200)],
    ['p1 2x1x4', tilecfg(1, 2, 1, 4)],
    ['p1 1x1x1 (odd colsb)', tilecfg(1, 1, 1, 1)],
    ['p1 1x1x3', tilecfg(1, 1, 1, 3)],
    ['p1 rows=17', tilecfg(1, 1, 17, 64)],
    ['p1 colsb=65', tilecfg(1, 1, 16, 65)],
    ['p1 rows=0 colsb=4', tilecfg(1, 1, 0, 4)],
    ['p1 rows=4 colsb=0', tilecfg(1, 1, 4, 0)],
    ['p1 tile 8 set', (() => { const c = tilecfg(1, 1, 16, 64); c[48 + 8] = 1; c[32] = 4; return c; })()],
    ['p1 reserved byte 2', (() => { const c = tilecfg(1, 1, 16, 64); c[2] = 1; return c; })()],
    ['p1 reserved byte 60', (() => { const c = tilecfg(1, 1, 16, 64); c[60] = 1; return c; })()],
    ['p0 start_row=1', tilecfg(0, 0, 0, 0, 1)],
    ['p0 with tiles', tilecfg(0, 1, 16, 64)],
    ['p2', tilecfg(2, 1, 16, 64)],
    ['p0xff', tilecfg(0xff, 1, 16, 64)],
  ];
  for (const [name, cfg] of cfgs) {
    for (const tdMode of ['random', 'zero']) {
      const img = image(0x60000);
      img.set(cfg, CFG);
      if (tdMode === 'random') for (let k = 0; k < 8192; k++) img[TD + k] = (k * 37 + 11) & 0xff;
      add(`XRSTOR cfg=${name} td=${tdMode}; XGETBV1; XSAVE all`, [img, sentinel()], [step(Op.XRSTOR, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVE, 1, ALL, 0)], show(1));
    }
    // TILECFG alone (TILEDATA init in image)
    const img = image(0x20000);
    img.set(cfg, CFG);
    add(`XRSTOR cfg=${name} bv=20000; XGETBV1; XSAVE all`, [img, sentinel()], [step(Op.XRSTOR, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVE, 1, ALL, 0)], show(1));
  }
  // Order: TILEDATA loaded while TILECFG stays (RFBM = 18 only), over a previous valid config
  {
    const a = image(0x60000);
    a.set(tilecfg(1, 8, 16, 64), CFG);
    for (let k = 0; k < 8192; k++) a[TD + k] = (k * 37 + 11) & 0xff;
    const b = image(0x60000);
    b.set(tilecfg(3, 1, 16, 64), CFG);
    for (let k = 0; k < 8192; k++) b[TD + k] = 0x5a;
    add('valid cfg; then XRSTOR rfbm=40000 (td only); XSAVE', [a, b, sentinel()], [step(Op.XRSTOR, 0), step(Op.XRSTOR, 1, 0x40000, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVE, 2, ALL, 0)], show(2));
    add('valid cfg; then XRSTOR rfbm=20000 (bad cfg only); XSAVE', [a, b, sentinel()], [step(Op.XRSTOR, 0), step(Op.XRSTOR, 1, 0x20000, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVE, 2, ALL, 0)], show(2));
    const c = image(0x20000);
    c.set(tilecfg(1, 1, 1, 4), CFG);
    add('valid cfg; then XRSTOR rfbm=20000 (other good cfg); XSAVE', [a, c, sentinel()], [step(Op.XRSTOR, 0), step(Op.XRSTOR, 1, 0x20000, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVE, 2, ALL, 0)], show(2));
    const d = image(0);
    add('valid cfg; then XRSTOR rfbm=20000 bv=0 (cfg init); XSAVE', [a, d, sentinel()], [step(Op.XRSTOR, 0), step(Op.XRSTOR, 1, 0x20000, 0), step(Op.XGETBV, 0, 1), step(Op.XSAVE, 2, ALL, 0)], show(2));
  }
}

if (exp === 'x87') {
  // FIP (8..15) / FDP (16..23) / FOP (6..7) / FCS-FDS with and without FSW.ES, via FXRSTOR and XRSTOR.
  const vals: bigint[] = [
    0x0000_1234_5678_9abcn,
    0x0000_8234_5678_9abcn,
    0x00ff_1234_5678_9abcn,
    0x0100_1234_5678_9abcn,
    0x8000_0000_0000_0000n,
    0x7fff_ffff_ffff_ffffn,
    0xffff_ffff_ffff_ffffn,
    0x8600_0000_0000_1000n,
    0x0080_0000_0000_0000n,
    0xff7f_ffff_ffff_ffffn,
  ];
  for (const es of [false, true]) {
    for (const v of vals) {
      const img = image(1);
      u64(img, 8, v);
      u64(img, 16, v);
      img[6] = 0xff;
      img[7] = 0xff;
      if (es) {
        img[0] = 0x7e; // unmask IE
        img[2] = 0x01; // IE flag
      }
      add(`XRSTOR x87 es=${es} fip=fdp=${v.toString(16)}; XSAVE`, [img, sentinel()], [step(Op.XRSTOR, 0), step(Op.XSAVE, 1, 1, 0)], (r) => `fcw/fsw=${hx(r.bufs[1], 0, 4)} fop=${hx(r.bufs[1], 6, 8)} fip=${r64(r.bufs[1], 8).toString(16)} fdp=${r64(r.bufs[1], 16).toString(16)}`);
      add(`FXRSTOR x87 es=${es} fip=fdp=${v.toString(16)}; FXSAVE`, [img, sentinel()], [step(Op.FXRSTOR, 0), step(Op.FXSAVE, 1)], (r) => `fcw/fsw=${hx(r.bufs[1], 0, 4)} fop=${hx(r.bufs[1], 6, 8)} fip=${r64(r.bufs[1], 8).toString(16)} fdp=${r64(r.bufs[1], 16).toString(16)}`);
    }
  }
}

if (exp === 'amxopt') {
  const show = (r: HwResult): string => `bv=${hx(r.bufs[0], 512, 520)} cfg=${hx(r.bufs[0], CFG, CFG + 20)} td=${hx(r.bufs[0], TD, TD + 4)} ymm=${hx(r.bufs[0], 576, 580)}`;
  const base = (): Uint8Array => {
    const a = image(0x60004);
    a.set(tilecfg(1, 8, 16, 64), CFG);
    for (let k = 0; k < 8192; k++) a[TD + k] = (k * 37 + 11) & 0xff;
    a.fill(0x33, 576, 576 + 256);
    return a;
  };
  for (const rfbm of [ALL, 0x20000, 0x60000]) {
    add(`XRSTOR valid cfg; poke cfg+2; XSAVEOPT rfbm=${rfbm.toString(16)}`, [base()], [step(Op.XRSTOR, 0), step(Op.POKE, 0, 0, 0, CFG + 2, 0x77), step(Op.XSAVEOPT, 0, rfbm, 0)], show);
    add(`XRSTOR valid cfg; poke cfg+1 (start_row); XSAVEOPT rfbm=${rfbm.toString(16)}`, [base()], [step(Op.XRSTOR, 0), step(Op.POKE, 0, 0, 0, CFG + 1, 0x77), step(Op.XSAVEOPT, 0, rfbm, 0)], show);
    add(`XRSTOR valid cfg; poke td; XSAVEOPT rfbm=${rfbm.toString(16)}`, [base()], [step(Op.XRSTOR, 0), step(Op.POKE, 0, 0, 0, TD + 1, 0x77), step(Op.XSAVEOPT, 0, rfbm, 0)], show);
    add(`XRSTOR valid cfg; poke ymm; XSAVEOPT rfbm=${rfbm.toString(16)}`, [base()], [step(Op.XRSTOR, 0), step(Op.POKE, 0, 0, 0, 577, 0x77), step(Op.XSAVEOPT, 0, rfbm, 0)], show);
  }
  // XRSTOR of everything except TILECFG: then TILECFG not restored from this area (XMODIFIED[17] = 1 anyway)
  add('XRSTOR valid cfg; XRSTOR rfbm=~20000 same; poke cfg; XSAVEOPT', [base()], [step(Op.XRSTOR, 0), step(Op.XRSTOR, 0, ~0x20000 >>> 0, 0), step(Op.POKE, 0, 0, 0, CFG + 2, 0x77), step(Op.XSAVEOPT, 0, ALL, 0)], show);
  // compacted
  const comp = (): Uint8Array => {
    const a = image(0x60000);
    u32(a, 520, 0x600e7);
    u32(a, 524, 0x8000_0000);
    return a;
  };
  void comp;
}

run();
