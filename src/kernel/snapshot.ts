/**
 * Cloning, canonical hashing and serializing a kernel state (the checker explores millions of them;
 * every counterexample must be replayable from a file). The value pool of the environment is
 * append-only and tokens name byte images canonically, so states that share an environment can be
 * compared by their tokens.
 *
 * The checker's own machinery is here too (`StateStore`): it stores states with their XSAVE areas'
 * bytes as shared immutable images, copies them back into scratch memory to run a move, and decides
 * whether a state is new by exact comparison of a compact canonical encoding.
 */
import { Buffer } from 'node:buffer';
import type { AreaImage, XsaveArea } from '../arch/xsave/area.js';
import type { XState } from '../arch/xsave/state.js';
import { Counters, Cpu, FpState, Fpu, KState, MmState, SignalFrame, Task, XbufState } from './state.js';

// ---------------------------------------------------------------------------------------------
// Cloning. The checker's working copies (one per move) take their typed arrays from one reused arena.

interface Copier {
  u8(b: Uint8Array): Uint8Array;
  i32(b: Int32Array): Int32Array;
}

const OWN: Copier = { u8: (b) => b.slice(), i32: (b) => b.slice() };

/**
 * Typed arrays as views into one buffer that every `reset` reuses from the start: for working copies
 * that are dropped or stored (`StateStore.freeze` moves every array out) before the next reset.
 */
class Arena implements Copier {
  private buf = new ArrayBuffer(1 << 16);
  private used = 0;

  reset(): void {
    this.used = 0;
  }

  /** Offset of `bytes` fresh bytes (8-aligned). */
  private take(bytes: number): number {
    const n = (bytes + 7) & ~7;
    if (this.used + n > this.buf.byteLength) {
      // Views already handed out keep the old buffer alive until they are dropped.
      this.buf = new ArrayBuffer(Math.max(this.buf.byteLength * 2, n));
      this.used = 0;
    }
    const o = this.used;
    this.used += n;
    return o;
  }

  // take() may replace the buffer: read `this.buf` only after it (a view made on the old buffer at the
  // new one's offset would overlap the arrays copied first).
  u8(src: Uint8Array): Uint8Array {
    const o = this.take(src.length);
    const b = new Uint8Array(this.buf, o, src.length);
    b.set(src);
    return b;
  }

  i32(src: Int32Array): Int32Array {
    const o = this.take(src.length * 4);
    const b = new Int32Array(this.buf, o, src.length);
    b.set(src);
    return b;
  }
}

// Object literals naming every field, not spreads: each kind of object gets one hidden class whatever
// the history of the one copied (a spread of an object whose map V8 has deprecated takes a slow path),
// and the compiler insists that a field added to state.ts is copied here too.

function cloneAreaWith(a: XsaveArea, c: Copier): XsaveArea {
  return {
    address: a.address,
    bytes: c.u8(a.bytes),
    slots: c.i32(a.slots),
    slotLiveLo: a.slotLiveLo,
    slotLiveHi: a.slotLiveHi,
    memo: a.memo,
  };
}

function cloneFpstate(f: FpState, c: Copier): FpState {
  return {
    id: f.id,
    area: cloneAreaWith(f.area, c),
    size: f.size,
    userSize: f.userSize,
    xfeaturesLo: f.xfeaturesLo,
    xfeaturesHi: f.xfeaturesHi,
    userXfeaturesLo: f.userXfeaturesLo,
    userXfeaturesHi: f.userXfeaturesHi,
    xfdLo: f.xfdLo,
    xfdHi: f.xfdHi,
    isValloc: f.isValloc,
    isGuest: f.isGuest,
  };
}

function cloneFpu(f: Fpu, c: Copier): Fpu {
  const embedded = cloneFpstate(f.embedded, c);
  const fpstate = f.fpstate === f.embedded ? embedded : cloneFpstate(f.fpstate, c);
  const taskFpstate = f.taskFpstate === null ? null : f.taskFpstate === f.embedded ? embedded : cloneFpstate(f.taskFpstate, c);
  return {
    id: f.id,
    lastCpu: f.lastCpu,
    fpstate,
    embedded,
    taskFpstate,
    permLo: f.permLo,
    permHi: f.permHi,
    guestPermLo: f.guestPermLo,
    guestPermHi: f.guestPermHi,
    fpstateActive: f.fpstateActive,
    fpregsActive: f.fpregsActive,
    counter: f.counter,
  };
}

function cloneTask(t: Task, c: Copier): Task {
  const fpu = cloneFpu(t.fpu, c);
  const v = t.vcpu;
  // The guest fpstate is the active one while in KVM_RUN: keep that identity.
  const vcpu = v && { fpstate: v.fpstate === t.fpu.fpstate ? fpu.fpstate : cloneFpstate(v.fpstate, c), inRun: v.inRun, inGuest: v.inGuest, loaded: v.loaded };
  const frames: SignalFrame[] = [];
  for (const fr of t.frames) frames.push({ sig: fr.sig, area: cloneAreaWith(fr.area, c) });
  return {
    pid: t.pid,
    tgid: t.tgid,
    comm: t.comm,
    kind: t.kind,
    run: t.run,
    cpu: t.cpu,
    inUser: t.inUser,
    tif: t.tif,
    fpu,
    pkru: t.pkru,
    mm: t.mm,
    parent: t.parent,
    slice: t.slice,
    runtime: t.runtime,
    pending: t.pending.slice(),
    frames,
    traced: t.traced,
    nmCount: t.nmCount,
    altstackSize: t.altstackSize,
    pasidActivated: t.pasidActivated,
    vcpu,
    saves: t.saves,
    restores: t.restores,
    switches: t.switches,
  };
}

function cloneXState(s: XState, c: Copier): XState {
  return {
    cr0Ts: s.cr0Ts,
    cr4Osxsave: s.cr4Osxsave,
    cpl: s.cpl,
    vmxNonRoot: s.vmxNonRoot,
    xcr0Lo: s.xcr0Lo,
    xcr0Hi: s.xcr0Hi,
    xssLo: s.xssLo,
    xssHi: s.xssHi,
    xfdLo: s.xfdLo,
    xfdHi: s.xfdHi,
    xfdErrLo: s.xfdErrLo,
    xfdErrHi: s.xfdErrHi,
    tok: c.i32(s.tok),
    mxcsr: s.mxcsr,
    xinuseLo: s.xinuseLo,
    xinuseHi: s.xinuseHi,
    xmodLo: s.xmodLo,
    xmodHi: s.xmodHi,
    trkValid: s.trkValid,
    trkCpl: s.trkCpl,
    trkVmx: s.trkVmx,
    trkAddr: s.trkAddr,
    trkXcompLo: s.trkXcompLo,
    trkXcompHi: s.trkXcompHi,
  };
}

function cloneCpu(u: Cpu, c: Copier): Cpu {
  return {
    id: u.id,
    curr: u.curr,
    idle: u.idle,
    owner: u.owner,
    xs: cloneXState(u.xs, c),
    inKernelFpu: u.inKernelFpu,
    softirq: u.softirq,
    hardirq: u.hardirq,
    preempt: u.preempt,
    xfdCacheLo: u.xfdCacheLo,
    xfdCacheHi: u.xfdCacheHi,
    pkru: u.pkru,
    fpuActive: u.fpuActive,
    preload: u.preload,
    fpregsLocked: u.fpregsLocked,
    irqArmed: u.irqArmed,
    irqsOff: u.irqsOff,
    rq: u.rq.slice(),
    mm: u.mm,
  };
}

function cloneCounters(k: Counters): Counters {
  return {
    contextSwitches: k.contextSwitches,
    saves: k.saves,
    restores: k.restores,
    restoresSkipped: k.restoresSkipped,
    nmTraps: k.nmTraps,
    bytesSaved: k.bytesSaved,
    bytesRestored: k.bytesRestored,
    signals: k.signals,
    sigreturns: k.sigreturns,
    forks: k.forks,
    execs: k.execs,
    exits: k.exits,
    kernelFpuSections: k.kernelFpuSections,
    migrations: k.migrations,
    syscalls: k.syscalls,
    pageFaults: k.pageFaults,
    ptraceAccesses: k.ptraceAccesses,
    ipis: k.ipis,
    invlpgs: k.invlpgs,
    pageTableUpdates: k.pageTableUpdates,
    bytesCopied: k.bytesCopied,
    xstateBytes: k.xstateBytes,
    xstateBytesPeak: k.xstateBytesPeak,
    xstateBytesAllocated: k.xstateBytesAllocated,
    allocations: k.allocations,
    frees: k.frees,
    modifiedOptHits: k.modifiedOptHits,
    msrWrites: k.msrWrites,
    gpTraps: k.gpTraps,
    pkruWrites: k.pkruWrites,
    cacheLinesDirtied: k.cacheLinesDirtied,
  };
}

function cloneWith(st: KState, c: Copier): KState {
  const tasks = new Map<number, Task>();
  for (const [pid, t] of st.tasks) tasks.set(pid, cloneTask(t, c));
  const mms = new Map<number, MmState>();
  for (const [id, m] of st.mms) mms.set(id, { id: m.id, pasid: m.pasid, cpumask: m.cpumask.slice(), users: m.users });
  const xbuf: XbufState = { percpu: st.xbuf.percpu.map((a) => cloneAreaWith(a, c)), cache: st.xbuf.cache.map((f) => cloneFpstate(f, c)), lazyFreedPages: st.xbuf.lazyFreedPages };
  const cpus: Cpu[] = [];
  for (const u of st.cpus) cpus.push(cloneCpu(u, c));
  return { now: st.now, cpus, tasks, nextPid: st.nextPid, nextId: st.nextId, nextAddr: st.nextAddr, counters: cloneCounters(st.counters), mms, xbuf, entropyBuf: st.entropyBuf };
}

/** A deep copy that shares nothing mutable with `st`. */
export function cloneState(st: KState): KState {
  return cloneWith(st, OWN);
}

// ---------------------------------------------------------------------------------------------
// Hashing. Two 32-bit streams (murmur3's and a multiply-xorshift) over 32-bit words: a 64-bit digest.

let H1 = 0;
let H2 = 0;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** H1, H2 := the digest of words w[from, to) (and `extra`, the byte length for areas). */
function digestWords(w: Int32Array, from: number, to: number, extra: number): void {
  let a = 0x811c9dc5 ^ extra;
  let b = 0x050c5d1f + extra;
  for (let i = from; i < to; i++) {
    const v = w[i];
    let k = Math.imul(v, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    a ^= Math.imul(k, 0x1b873593);
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    b = Math.imul(b ^ (v + 0x9e3779b9), 0x85ebca6b);
    b ^= b >>> 13;
  }
  a = fmix(a ^ (to - from));
  b = fmix(b);
  H1 = (a + b) >>> 0;
  H2 = (b + a + a) >>> 0;
}

/** H1, H2 := the content hash of `b` (its length included). */
function digestBytes(b: Uint8Array): void {
  const n = b.length >>> 2;
  const w = (b.byteOffset & 3) === 0 ? new Int32Array(b.buffer, b.byteOffset, n) : Int32Array.from({ length: n }, (_, i) => b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) | (b[4 * i + 3] << 24));
  let tail = 0;
  for (let i = n * 4; i < b.length; i++) tail = (tail << 8) | b[i];
  digestWords(w, 0, n, b.length ^ Math.imul(tail, 0x9e3779b1));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a === b || (a.length === b.length && Buffer.compare(a, b) === 0);
}

/** Distinct area images by content, each stored once; a 64-bit hash shared by two different images is reported, never merged. */
class ImageTable {
  private readonly byH1 = new Map<number, AreaImage | AreaImage[]>();
  size = 0;
  /** Bytes of all images stored. */
  bytes = 0;

  /** The images `intern` returned last, newest first: most areas a move writes hold one of them again. */
  private readonly recent: AreaImage[] = [];

  intern(bytes: Uint8Array): AreaImage {
    const r = this.recent;
    for (let i = 0; i < r.length; i++)
      if (sameBytes(r[i].bytes, bytes)) {
        const img = r[i];
        for (let j = i; j > 0; j--) r[j] = r[j - 1];
        r[0] = img;
        return img;
      }
    const img = this.lookup(bytes);
    if (r.length < 4) r.push(img);
    for (let j = r.length - 1; j > 0; j--) r[j] = r[j - 1];
    r[0] = img;
    return img;
  }

  private lookup(bytes: Uint8Array): AreaImage {
    digestBytes(bytes);
    const h1 = H1;
    const h2 = H2;
    const e = this.byH1.get(h1);
    if (e !== undefined) {
      for (const img of Array.isArray(e) ? e : [e]) {
        if (img.h2 !== h2) continue;
        if (!sameBytes(img.bytes, bytes)) throw new Error(`snapshot: two different XSAVE area images share the 64-bit hash ${h1.toString(16)}:${h2.toString(16)}`);
        return img;
      }
    }
    const img: AreaImage = { bytes: bytes.slice(), h1, h2 };
    this.bytes += bytes.length;
    if (e === undefined) this.byH1.set(h1, img);
    else if (Array.isArray(e)) e.push(img);
    else this.byH1.set(h1, [e, img]);
    this.size++;
    return img;
  }
}

/**
 * The canonical encoding of a state as 32-bit words: everything hashState covers, each XSAVE area as
 * its address, length and 64-bit content hash, every variable-length part preceded by its length (so
 * equal encodings mean equal states). CPUs and tasks are segments, which `StateStore` interns apart.
 */
class Encoder {
  w = new Int32Array(1024);
  n = 0;
  /** Segments [segFrom[i], segTo[i]): kind 0 a CPU, 1 a task. */
  segFrom = new Int32Array(16);
  segTo = new Int32Array(16);
  segKind = new Uint8Array(16);
  ns = 0;
  private readonly pids: number[] = [];
  private readonly ids: number[] = [];
  private readonly taskList: Task[] = [];
  /** With a table: the areas the last `encode` covered (each one's memo then holds its bytes). */
  readonly checked: XsaveArea[] = [];

  /** With a table, areas whose memo is stale get an interned image as their memo; without, they are only hashed. */
  constructor(private readonly images: ImageTable | null) {}

  private grow(): void {
    const w = new Int32Array(this.w.length * 2);
    w.set(this.w);
    this.w = w;
  }

  private put(v: number): void {
    if (this.n === this.w.length) this.grow();
    this.w[this.n++] = v;
  }

  private seg(from: number, kind: number): void {
    if (this.ns === this.segFrom.length) {
      const grow = <T extends Int32Array | Uint8Array>(a: T, b: T): T => (b.set(a), b);
      this.segFrom = grow(this.segFrom, new Int32Array(this.ns * 2));
      this.segTo = grow(this.segTo, new Int32Array(this.ns * 2));
      this.segKind = grow(this.segKind, new Uint8Array(this.ns * 2));
    }
    this.segFrom[this.ns] = from;
    this.segTo[this.ns] = this.n;
    this.segKind[this.ns++] = kind;
  }

  /** Strings as one number each (their order of first appearance): for `StateStore.visit`'s own tables only. */
  private compact = false;
  private readonly strIds = new Map<string, number>();

  private str(s: string): void {
    if (this.compact) {
      let id = this.strIds.get(s);
      if (id === undefined) this.strIds.set(s, (id = this.strIds.size));
      this.put(id);
      return;
    }
    this.put(s.length);
    for (let i = 0; i < s.length; i++) this.put(s.charCodeAt(i));
  }

  private area(a: XsaveArea): void {
    if (this.images) this.checked.push(a);
    this.put(a.address);
    this.put(a.bytes.length);
    const m = a.memo;
    if (m !== undefined && sameBytes(m.bytes, a.bytes)) {
      this.put(m.h1);
      this.put(m.h2);
    } else if (this.images) {
      const img = this.images.intern(a.bytes);
      a.memo = img;
      this.put(img.h1);
      this.put(img.h2);
    } else {
      digestBytes(a.bytes);
      this.put(H1);
      this.put(H2);
    }
  }

  private fpstate(f: FpState): void {
    this.put(f.id);
    this.area(f.area);
    this.put(f.size);
    this.put(f.userSize);
    this.put(f.xfeaturesLo);
    this.put(f.xfeaturesHi);
    this.put(f.userXfeaturesLo);
    this.put(f.userXfeaturesHi);
    this.put(f.xfdLo);
    this.put(f.xfdHi);
    this.put(f.isValloc ? 1 : 0);
    this.put(f.isGuest ? 1 : 0);
  }

  private xstate(s: XState): void {
    this.put(s.cr0Ts ? 1 : 0);
    this.put(s.cr4Osxsave ? 1 : 0);
    this.put(s.cpl);
    this.put(s.vmxNonRoot ? 1 : 0);
    this.put(s.xcr0Lo);
    this.put(s.xcr0Hi);
    this.put(s.xssLo);
    this.put(s.xssHi);
    this.put(s.xfdLo);
    this.put(s.xfdHi);
    this.put(s.xfdErrLo);
    this.put(s.xfdErrHi);
    this.put(s.mxcsr);
    this.put(s.xinuseLo);
    this.put(s.xinuseHi);
    this.put(s.xmodLo);
    this.put(s.xmodHi);
    this.put(s.trkValid ? 1 : 0);
    this.put(s.trkCpl);
    this.put(s.trkVmx ? 1 : 0);
    this.put(s.trkAddr);
    this.put(s.trkXcompLo);
    this.put(s.trkXcompHi);
    // The tokens sparsely (most components hold 0, init): their number, then (index, token) pairs.
    const tok = s.tok;
    this.put(tok.length);
    const at = this.n;
    this.put(0);
    for (let i = 0; i < tok.length; i++)
      if (tok[i] !== 0) {
        this.put(i);
        this.put(tok[i]);
      }
    this.w[at] = (this.n - at - 1) >>> 1;
  }

  private cpu(c: Cpu): void {
    const from = this.n;
    this.put(c.id);
    this.put(c.curr);
    this.put(c.idle);
    this.put(c.owner);
    this.put(c.softirq);
    this.put(c.hardirq);
    this.put(c.preempt);
    this.put(c.xfdCacheLo);
    this.put(c.xfdCacheHi);
    this.put(c.pkru);
    this.put(c.mm);
    this.put(c.inKernelFpu ? 1 : 0);
    this.put(c.fpuActive ? 1 : 0);
    this.put(c.preload ? 1 : 0);
    this.put(c.fpregsLocked ? 1 : 0);
    this.put(c.irqArmed ? 1 : 0);
    this.put(c.irqsOff ? 1 : 0);
    this.xstate(c.xs);
    this.put(c.rq.length);
    for (const p of c.rq) this.put(p);
    this.seg(from, 0);
  }

  private task(t: Task): void {
    const from = this.n;
    this.put(t.pid);
    this.put(t.tgid);
    this.str(t.comm);
    this.str(t.kind);
    this.str(t.run);
    this.put(t.cpu);
    this.put(t.tif);
    this.put(t.pkru);
    this.put(t.mm);
    this.put(t.parent);
    this.put(t.inUser ? 1 : 0);
    this.put(t.traced ? 1 : 0);
    this.put(t.pasidActivated ? 1 : 0);
    this.put(t.altstackSize);
    const f = t.fpu;
    this.put(f.id);
    this.put(f.lastCpu);
    this.put(f.permLo);
    this.put(f.permHi);
    this.put(f.guestPermLo);
    this.put(f.guestPermHi);
    this.put(f.counter);
    this.put(f.fpstateActive ? 1 : 0);
    this.put(f.fpregsActive ? 1 : 0);
    this.fpstate(f.embedded);
    this.put(f.fpstate === f.embedded ? 1 : 0);
    if (f.fpstate !== f.embedded) this.fpstate(f.fpstate);
    this.put(t.pending.length);
    for (const s of t.pending) this.put(s);
    this.put(t.vcpu !== null ? 1 : 0);
    if (t.vcpu) {
      this.put(t.vcpu.inRun ? 1 : 0);
      this.put(t.vcpu.inGuest ? 1 : 0);
      this.put(t.vcpu.loaded ? 1 : 0);
      this.fpstate(t.vcpu.fpstate);
    }
    this.put(t.frames.length);
    for (const fr of t.frames) {
      this.put(fr.sig);
      this.area(fr.area);
    }
    this.seg(from, 1);
  }

  /** Keys of `m` in increasing order (maps are usually built in that order already). */
  private sortedKeys<V>(m: Map<number, V>, out: number[]): number[] {
    out.length = 0;
    let sorted = true;
    for (const k of m.keys()) {
      if (out.length > 0 && k < out[out.length - 1]) sorted = false;
      out.push(k);
    }
    if (!sorted) out.sort((a, b) => a - b);
    return out;
  }

  /** With `compact`, strings are numbered (not hashState's encoding, and not comparable across encoders). */
  encode(st: KState, withTime: boolean, compact = false): void {
    this.compact = compact;
    this.n = 0;
    this.ns = 0;
    this.checked.length = 0;
    if (withTime) this.put(st.now);
    this.put(st.entropyBuf);
    this.put(st.cpus.length);
    for (const c of st.cpus) this.cpu(c);
    const ids = this.sortedKeys(st.mms, this.ids);
    this.put(ids.length);
    for (const id of ids) {
      const m = st.mms.get(id)!;
      this.put(m.id);
      this.put(m.pasid);
      this.put(m.users);
      this.put(m.cpumask.length);
      for (const c of m.cpumask) this.put(c);
    }
    const xb = st.xbuf;
    this.put(xb.lazyFreedPages);
    this.put(xb.cache.length);
    for (const f of xb.cache) this.fpstate(f);
    // Per-CPU buffers are created on a CPU's first use: the array may have holes.
    this.put(xb.percpu.length);
    for (let c = 0; c < xb.percpu.length; c++) {
      const a = xb.percpu[c] as XsaveArea | undefined;
      this.put(a !== undefined ? 1 : 0);
      if (a) this.area(a);
    }
    // Tasks by pid: their map's order but for a few (the idle tasks count down), so an insertion sort.
    const pids = this.pids;
    const tasks = this.taskList;
    pids.length = 0;
    tasks.length = 0;
    let shifts = 0;
    for (const [pid, t] of st.tasks) {
      let i = pids.length;
      pids.push(pid);
      tasks.push(t);
      while (i > 0 && pids[i - 1] > pid) {
        pids[i] = pids[i - 1];
        tasks[i] = tasks[i - 1];
        i--;
        shifts++;
      }
      pids[i] = pid;
      tasks[i] = t;
      if (shifts > 256) break;
    }
    if (shifts > 256) {
      this.sortedKeys(st.tasks, pids);
      tasks.length = 0;
      for (const pid of pids) tasks.push(st.tasks.get(pid)!);
    }
    this.put(tasks.length);
    for (const t of tasks) this.task(t);
    tasks.length = 0;
  }

  hex(): string {
    digestWords(this.w, 0, this.n, 0);
    return H1.toString(16).padStart(8, '0') + H2.toString(16).padStart(8, '0');
  }
}

let plain: Encoder | null = null;

/**
 * A canonical hash of the architecturally and kernel-visible state: equal states hash equal whatever
 * the order tasks were created in or the contents of the areas' slot caches (a cache, not state).
 * Model time and counters are excluded (they are statistics, not state).
 */
export function hashState(st: KState, withTime = false): string {
  plain ??= new Encoder(null);
  plain.encode(st, withTime);
  return plain.hex();
}

// ---------------------------------------------------------------------------------------------
// The checker's store of states.

/** Exact sets of word sequences, each numbered by insertion: open addressing over one growing arena. */
class WordTable {
  private arena = new Int32Array(1 << 12);
  private used = 0;
  private off = new Int32Array(256);
  private len = new Int32Array(256);
  private hash = new Int32Array(256);
  private slots = new Int32Array(512);
  size = 0;
  /** Whether the last `intern` added its words. */
  added = false;

  /** The number of w[from, to): the one it had, or the next one (then `added`). */
  intern(w: Int32Array, from: number, to: number): number {
    let h = 0x9747b28c ^ (to - from);
    for (let i = from; i < to; i++) {
      let k = Math.imul(w[i], 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h = fmix(h);
    const n = to - from;
    const mask = this.slots.length - 1;
    const arena = this.arena;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s];
      if (e === 0) break;
      const id = e - 1;
      if (this.hash[id] !== h || this.len[id] !== n) continue;
      const o = this.off[id] - from;
      let i = from;
      while (i < to && arena[o + i] === w[i]) i++;
      if (i === to) {
        this.added = false;
        return id;
      }
    }
    const id = this.size++;
    if (id === this.off.length) {
      const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.off = grow(this.off);
      this.len = grow(this.len);
      this.hash = grow(this.hash);
    }
    if (this.used + n > this.arena.length) {
      const b = new Int32Array(Math.max(this.arena.length * 2, this.used + n));
      b.set(this.arena.subarray(0, this.used));
      this.arena = b;
    }
    this.arena.set(w.subarray(from, to), this.used);
    this.off[id] = this.used;
    this.len[id] = n;
    this.hash[id] = h;
    this.used += n;
    if (this.size * 2 > this.slots.length) this.rehash();
    else this.place(h, id);
    this.added = true;
    return id;
  }

  /** Whether number `id` is w[from, to). */
  holds(id: number, w: Int32Array, from: number, to: number): boolean {
    if (id >= this.size || this.len[id] !== to - from) return false;
    const arena = this.arena;
    const o = this.off[id] - from;
    let i = from;
    while (i < to && arena[o + i] === w[i]) i++;
    return i === to;
  }

  private place(h: number, id: number): void {
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = id + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let id = 0; id < this.size; id++) this.place(this.hash[id], id);
  }
}

// ---------------------------------------------------------------------------------------------
// Equality of stored records, for sharing them between stored states. Only after `StateStore.freeze`
// has interned their arrays (images and arrays are then canonical: equal contents, same object).
// Each list of fields must name every field: a field added to state.ts fails to compile here.

type Covers<T, Listed extends keyof T> = [Exclude<keyof T, Listed>] extends [never] ? true : never;
const covered = <T extends true>(x: T): T => x;

covered<Covers<XsaveArea, 'address' | 'bytes' | 'slots' | 'slotLiveLo' | 'slotLiveHi' | 'memo'>>(true);
function sameFrozenArea(a: XsaveArea, b: XsaveArea): boolean {
  return a === b || (a.address === b.address && a.bytes === b.bytes && a.slots === b.slots && a.slotLiveLo === b.slotLiveLo && a.slotLiveHi === b.slotLiveHi && a.memo === b.memo);
}

covered<Covers<FpState, 'id' | 'area' | 'size' | 'userSize' | 'xfeaturesLo' | 'xfeaturesHi' | 'userXfeaturesLo' | 'userXfeaturesHi' | 'xfdLo' | 'xfdHi' | 'isValloc' | 'isGuest'>>(true);
function sameFpstate(a: FpState, b: FpState): boolean {
  return (
    a.id === b.id &&
    a.size === b.size &&
    a.userSize === b.userSize &&
    a.xfeaturesLo === b.xfeaturesLo &&
    a.xfeaturesHi === b.xfeaturesHi &&
    a.userXfeaturesLo === b.userXfeaturesLo &&
    a.userXfeaturesHi === b.userXfeaturesHi &&
    a.xfdLo === b.xfdLo &&
    a.xfdHi === b.xfdHi &&
    a.isValloc === b.isValloc &&
    a.isGuest === b.isGuest &&
    sameFrozenArea(a.area, b.area)
  );
}

function sameNums(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** 0 `f` is `fpu`'s embedded fpstate, 1 its active one (not embedded), 2 null, 3 another. */
function fpstateRole(fpu: Fpu, f: FpState | null): number {
  return f === fpu.embedded ? 0 : f === fpu.fpstate ? 1 : f === null ? 2 : 3;
}

covered<Covers<Fpu, 'id' | 'lastCpu' | 'fpstate' | 'embedded' | 'taskFpstate' | 'permLo' | 'permHi' | 'guestPermLo' | 'guestPermHi' | 'fpstateActive' | 'fpregsActive' | 'counter'>>(true);
function sameFpu(a: Fpu, b: Fpu): boolean {
  if (a.id !== b.id || a.lastCpu !== b.lastCpu || a.permLo !== b.permLo || a.permHi !== b.permHi || a.guestPermLo !== b.guestPermLo || a.guestPermHi !== b.guestPermHi) return false;
  if (a.fpstateActive !== b.fpstateActive || a.fpregsActive !== b.fpregsActive || a.counter !== b.counter) return false;
  if (!sameFpstate(a.embedded, b.embedded)) return false;
  const ra = fpstateRole(a, a.fpstate);
  if (ra !== fpstateRole(b, b.fpstate) || (ra !== 0 && !sameFpstate(a.fpstate, b.fpstate))) return false;
  const ta = fpstateRole(a, a.taskFpstate);
  if (ta !== fpstateRole(b, b.taskFpstate)) return false;
  return ta !== 3 || sameFpstate(a.taskFpstate!, b.taskFpstate!);
}

type Vcpu = NonNullable<Task['vcpu']>;
covered<Covers<Vcpu, 'fpstate' | 'inRun' | 'inGuest' | 'loaded'>>(true);
covered<Covers<SignalFrame, 'sig' | 'area'>>(true);
covered<
  Covers<
    Task,
    | 'pid'
    | 'tgid'
    | 'comm'
    | 'kind'
    | 'run'
    | 'cpu'
    | 'inUser'
    | 'tif'
    | 'fpu'
    | 'pkru'
    | 'mm'
    | 'parent'
    | 'slice'
    | 'runtime'
    | 'pending'
    | 'frames'
    | 'traced'
    | 'nmCount'
    | 'altstackSize'
    | 'pasidActivated'
    | 'vcpu'
    | 'saves'
    | 'restores'
    | 'switches'
  >
>(true);
/** Whether two frozen tasks are equal in every field (statistics and slot caches included). */
function sameFrozenTask(a: Task, b: Task): boolean {
  if (a.pid !== b.pid || a.tgid !== b.tgid || a.comm !== b.comm || a.kind !== b.kind || a.run !== b.run || a.cpu !== b.cpu || a.inUser !== b.inUser || a.tif !== b.tif) return false;
  if (a.pkru !== b.pkru || a.mm !== b.mm || a.parent !== b.parent || a.slice !== b.slice || a.runtime !== b.runtime || a.traced !== b.traced || a.nmCount !== b.nmCount) return false;
  if (a.altstackSize !== b.altstackSize || a.pasidActivated !== b.pasidActivated || a.saves !== b.saves || a.restores !== b.restores || a.switches !== b.switches) return false;
  if (!sameNums(a.pending, b.pending) || a.frames.length !== b.frames.length) return false;
  for (let i = 0; i < a.frames.length; i++) if (a.frames[i].sig !== b.frames[i].sig || !sameFrozenArea(a.frames[i].area, b.frames[i].area)) return false;
  if (!sameFpu(a.fpu, b.fpu)) return false;
  const va = a.vcpu;
  const vb = b.vcpu;
  if (va === null || vb === null) return va === vb;
  if (va.inRun !== vb.inRun || va.inGuest !== vb.inGuest || va.loaded !== vb.loaded) return false;
  const r = fpstateRole(a.fpu, va.fpstate);
  if (r !== fpstateRole(b.fpu, vb.fpstate)) return false;
  // Roles 0 and 1 are the fpstates compared above; 2 cannot be (not null). Else compare it.
  return r < 2 || sameFpstate(va.fpstate, vb.fpstate);
}

covered<
  Covers<
    XState,
    | 'cr0Ts'
    | 'cr4Osxsave'
    | 'cpl'
    | 'vmxNonRoot'
    | 'xcr0Lo'
    | 'xcr0Hi'
    | 'xssLo'
    | 'xssHi'
    | 'xfdLo'
    | 'xfdHi'
    | 'xfdErrLo'
    | 'xfdErrHi'
    | 'tok'
    | 'mxcsr'
    | 'xinuseLo'
    | 'xinuseHi'
    | 'xmodLo'
    | 'xmodHi'
    | 'trkValid'
    | 'trkCpl'
    | 'trkVmx'
    | 'trkAddr'
    | 'trkXcompLo'
    | 'trkXcompHi'
  >
>(true);
function sameFrozenXState(a: XState, b: XState): boolean {
  if (a.tok !== b.tok || a.cr0Ts !== b.cr0Ts || a.cr4Osxsave !== b.cr4Osxsave || a.cpl !== b.cpl || a.vmxNonRoot !== b.vmxNonRoot || a.mxcsr !== b.mxcsr) return false;
  if (a.xcr0Lo !== b.xcr0Lo || a.xcr0Hi !== b.xcr0Hi || a.xssLo !== b.xssLo || a.xssHi !== b.xssHi || a.xfdLo !== b.xfdLo || a.xfdHi !== b.xfdHi || a.xfdErrLo !== b.xfdErrLo || a.xfdErrHi !== b.xfdErrHi) return false;
  if (a.xinuseLo !== b.xinuseLo || a.xinuseHi !== b.xinuseHi || a.xmodLo !== b.xmodLo || a.xmodHi !== b.xmodHi) return false;
  return a.trkValid === b.trkValid && a.trkCpl === b.trkCpl && a.trkVmx === b.trkVmx && a.trkAddr === b.trkAddr && a.trkXcompLo === b.trkXcompLo && a.trkXcompHi === b.trkXcompHi;
}

covered<Covers<Cpu, 'id' | 'curr' | 'idle' | 'owner' | 'xs' | 'inKernelFpu' | 'softirq' | 'hardirq' | 'preempt' | 'xfdCacheLo' | 'xfdCacheHi' | 'pkru' | 'fpuActive' | 'preload' | 'fpregsLocked' | 'irqArmed' | 'irqsOff' | 'rq' | 'mm'>>(true);
/** Whether two frozen CPUs are equal in every field. */
function sameFrozenCpu(a: Cpu, b: Cpu): boolean {
  if (a.id !== b.id || a.curr !== b.curr || a.idle !== b.idle || a.owner !== b.owner || a.inKernelFpu !== b.inKernelFpu || a.softirq !== b.softirq || a.hardirq !== b.hardirq || a.preempt !== b.preempt) return false;
  if (a.xfdCacheLo !== b.xfdCacheLo || a.xfdCacheHi !== b.xfdCacheHi || a.pkru !== b.pkru || a.fpuActive !== b.fpuActive || a.preload !== b.preload || a.fpregsLocked !== b.fpregsLocked || a.irqArmed !== b.irqArmed || a.irqsOff !== b.irqsOff || a.mm !== b.mm) return false;
  return sameNums(a.rq, b.rq) && sameFrozenXState(a.xs, b.xs);
}

/**
 * Distinct Int32Arrays by content, each stored once as a view into append-only chunks (`new
 * Int32Array(buffer, …)`: `subarray` looks up a species constructor each time). Stored arrays are
 * never written again.
 */
class ArrayTable {
  private stored: Int32Array[] = [];
  private hash = new Int32Array(256);
  private slots = new Int32Array(512);
  private chunk = new ArrayBuffer(1 << 18);
  private chunkUsed = 0;

  /** The arrays `intern` returned last, newest first (a state's areas repeat each other's slot lengths and offsets). */
  private readonly recent: Int32Array[] = [];

  intern(src: Int32Array): Int32Array {
    const r = this.recent;
    const n = src.length;
    for (let j = 0; j < r.length; j++) {
      const b = r[j];
      if (b.length !== n) continue;
      let i = 0;
      while (i < n && b[i] === src[i]) i++;
      if (i === n) {
        for (let k = j; k > 0; k--) r[k] = r[k - 1];
        r[0] = b;
        return b;
      }
    }
    const v = this.lookup(src);
    if (r.length < 8) r.push(v);
    for (let k = r.length - 1; k > 0; k--) r[k] = r[k - 1];
    r[0] = v;
    return v;
  }

  private lookup(src: Int32Array): Int32Array {
    const n = src.length;
    let h = 0x3c6ef372 ^ n;
    for (let i = 0; i < n; i++) {
      let k = Math.imul(src[i], 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    h = fmix(h);
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s];
      if (e === 0) break;
      const id = e - 1;
      if (this.hash[id] !== h) continue;
      const b = this.stored[id];
      if (b === src) return b;
      if (b.length !== n) continue;
      let i = 0;
      while (i < n && b[i] === src[i]) i++;
      if (i === n) return b;
    }
    const bytes = n * 4;
    if (this.chunkUsed + bytes > this.chunk.byteLength) {
      this.chunk = new ArrayBuffer(Math.max(1 << 18, bytes));
      this.chunkUsed = 0;
    }
    const v = new Int32Array(this.chunk, this.chunkUsed, n);
    v.set(src);
    this.chunkUsed += bytes;
    const id = this.stored.length;
    this.stored.push(v);
    if (id === this.hash.length) {
      const b = new Int32Array(id * 2);
      b.set(this.hash);
      this.hash = b;
    }
    this.hash[id] = h;
    if (this.stored.length * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      for (let j = 0; j < this.stored.length; j++) this.place(this.hash[j], j);
    } else this.place(h, id);
    return v;
  }

  private place(h: number, id: number): void {
    const mask = this.slots.length - 1;
    let s = h & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = id + 1;
  }
}

/**
 * The checker's states: stored ("frozen") with their area bytes as shared immutable images and their
 * slot caches and register tokens packed into one array per state; copied back ("thawed") into scratch
 * memory to run a move; told apart exactly (`visit`), by interning each CPU's and each task's
 * encoding and then the state's own words with those numbers and the caller's extra words.
 */
export class StateStore {
  private readonly images = new ImageTable();
  private readonly enc = new Encoder(this.images);
  private readonly cpus = new WordTable();
  private readonly tasks = new WordTable();
  private readonly seen = new WordTable();
  private top = new Int32Array(256);

  /** The numbers of the CPUs and tasks `visit` last saw, in order (each `number << 1 | kind`). */
  private segs = new Int32Array(16);
  private nsegs = 0;
  /** Those of each stored state, and of the one the working copy came from. */
  private readonly segsOf = new WeakMap<KState, Int32Array>();
  private parent: Int32Array | null = null;
  private thawed: KState | null = null;

  /** Distinct states visited. */
  get size(): number {
    return this.seen.size;
  }

  /** Distinct XSAVE area images stored. */
  get imageCount(): number {
    return this.images.size;
  }

  /** Bytes of the XSAVE area images stored (the bulk of the store's memory with AMX). */
  get imageBytes(): number {
    return this.images.bytes;
  }

  /** A hex digest of `st`'s canonical encoding (hashState's, computed with the store's images). */
  digest(st: KState): string {
    this.enc.encode(st, false);
    return this.enc.hex();
  }

  /**
   * Records `st` with the extra words (the oracle's arrays, each of a fixed length); true when this
   * pair was not recorded before.
   */
  visit(st: KState, extra: readonly (Int32Array | Uint8Array)[]): boolean {
    const e = this.enc;
    e.encode(st, false, true);
    this.encoded = st;
    const w = e.w;
    let len = e.n + e.ns;
    for (const x of extra) len += x.length;
    if (this.top.length < len) this.top = new Int32Array(len * 2);
    const top = this.top;
    let n = 0;
    let prev = 0;
    // Most CPUs and tasks are as they were in the state the move started from: try its numbers first.
    const p = this.parent;
    if (this.segs.length < e.ns) this.segs = new Int32Array(e.ns * 2);
    const segs = this.segs;
    for (let s = 0; s < e.ns; s++) {
      const from = e.segFrom[s];
      const to = e.segTo[s];
      while (prev < from) top[n++] = w[prev++];
      const kind = e.segKind[s];
      const table = kind === 0 ? this.cpus : this.tasks;
      let id: number;
      if (p !== null && s < p.length && (p[s] & 1) === kind && table.holds(p[s] >>> 1, w, from, to)) id = p[s] >>> 1;
      else id = table.intern(w, from, to);
      segs[s] = (id << 1) | kind;
      top[n++] = id;
      prev = to;
    }
    this.nsegs = e.ns;
    while (prev < e.n) top[n++] = w[prev++];
    for (const x of extra) for (let i = 0; i < x.length; i++) top[n++] = x[i];
    this.seen.intern(top, 0, n);
    return this.seen.added;
  }

  /** Stored slot caches and tokens, each distinct content once (most states share them). */
  private readonly arrays = new ArrayTable();
  private readonly areas: XsaveArea[] = [];
  /** The state `visit` last encoded: its areas' memos are its current images until it moves again. */
  private encoded: KState | null = null;

  private addArea(a: XsaveArea): void {
    if (!this.areas.includes(a)) this.areas.push(a);
  }

  /** Stores `st` in place: areas share their images' bytes; slot caches and tokens move to the store's chunks. */
  freeze(st: KState): void {
    const areas = this.areas;
    areas.length = 0;
    for (const t of st.tasks.values()) {
      const f = t.fpu;
      this.addArea(f.embedded.area);
      this.addArea(f.fpstate.area);
      if (f.taskFpstate) this.addArea(f.taskFpstate.area);
      if (t.vcpu) this.addArea(t.vcpu.fpstate.area);
      for (const fr of t.frames) this.addArea(fr.area);
    }
    for (const a of st.xbuf.percpu) if (a) this.addArea(a);
    for (const f of st.xbuf.cache) this.addArea(f.area);
    // Areas the encoding of `st` by `visit` just covered need no second comparison.
    const fresh = this.encoded === st;
    const checked = this.enc.checked;
    if (fresh) this.segsOf.set(st, this.segs.slice(0, this.nsegs));
    this.encoded = null;
    const keep = this.arrays;
    for (const a of areas) {
      let m = a.memo;
      if (m === undefined || (!(fresh && checked.includes(a)) && !sameBytes(m.bytes, a.bytes))) m = a.memo = this.images.intern(a.bytes);
      a.bytes = m.bytes;
      a.slots = keep.intern(a.slots);
    }
    for (const c of st.cpus) c.xs.tok = keep.intern(c.xs.tok);
    areas.length = 0;
    // Tasks and CPUs as they were in the state the working copy came from share that state's records.
    const from = this.thawed;
    if (from !== null) {
      for (const [pid, t] of st.tasks) {
        const p = from.tasks.get(pid);
        if (p !== undefined && p !== t && sameFrozenTask(t, p)) st.tasks.set(pid, p);
      }
      const cpus = st.cpus;
      for (let i = 0; i < cpus.length && i < from.cpus.length; i++) if (sameFrozenCpu(cpus[i], from.cpus[i])) cpus[i] = from.cpus[i];
    }
  }

  private readonly arena = new Arena();

  /**
   * A working copy of a stored state (deep; its typed arrays in the store's arena). It stays valid
   * until the next `thaw`, which reuses the arena: drop it or `freeze` it before then.
   */
  thaw(st: KState): KState {
    this.encoded = null;
    if (this.thawed !== st) {
      this.thawed = st;
      this.parent = this.segsOf.get(st) ?? null;
    }
    this.arena.reset();
    return cloneWith(st, this.arena);
  }
}

// ---------------------------------------------------------------------------------------------
// Serializing.

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** A JSON-safe rendering of a state (typed arrays as base64), for counterexample files and the web app. */
export function serializeState(st: KState): unknown {
  return JSON.parse(
    JSON.stringify(st, (k, v: unknown) => {
      if (k === 'memo') return undefined; // a cache of the checker's
      if (v instanceof Map) return { $map: [...(v as Map<unknown, unknown>).entries()] };
      if (v instanceof Uint8Array) return { $u8: b64(v) };
      if (v instanceof Int32Array) return { $i32: Array.from(v) };
      return v;
    }),
  );
}

/** The inverse of serializeState. */
export function deserializeState(j: unknown): KState {
  const st = JSON.parse(JSON.stringify(j), (_k, v: unknown) => {
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('$map' in o) return new Map(o.$map as [unknown, unknown][]);
      if ('$u8' in o) return new Uint8Array(Buffer.from(o.$u8 as string, 'base64'));
      if ('$i32' in o) return Int32Array.from(o.$i32 as number[]);
    }
    return v;
  }) as KState;
  // The active fpstate is usually the embedded one: restore that identity.
  for (const t of st.tasks.values()) if (t.fpu.fpstate.id === t.fpu.embedded.id) t.fpu.fpstate = t.fpu.embedded;
  return st;
}
