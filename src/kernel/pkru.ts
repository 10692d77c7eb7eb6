/**
 * PKRU (protection keys for user pages): the register is XSAVE component 9, so in the model its value
 * is the CPU's token for component 9 (an 8-byte image: the 32-bit PKRU, then 4 reserved zero bytes).
 * RDPKRU/WRPKRU here are the kernel's; user code writes it like any other component. On CPUs without
 * OSPKE (no bit 9 in XCR0) the kernel keeps a plain per-CPU value.
 */
import { charge } from './meter.js';
import { intern } from '../arch/xsave/values.js';
import type { Kernel } from './kernel.js';
import { Cpu, FpState, Task } from './state.js';
import { readU32, writeAreaU32, XsaveArea, XSTATE_BV } from '../arch/xsave/area.js';
import { storeComponent } from '../arch/xsave/component-io.js';
import { kernelOffset } from './fpu/uabi.js';

/** init_pkru_value: only key 0 accessible (the default since 4.9's pkeys code). */
export const INIT_PKRU = 0x5555_5554;
const PKRU = 9;

export function hasPkru(k: Kernel): boolean {
  return (k.cfg.xcr0 & (1n << 9n)) !== 0n;
}

/** The token of PKRU value `v`. */
export function pkruToken(k: Kernel, v: number): number {
  const memo = k.tokens[PKRU];
  const key = v | 0;
  const hit = memo.get(key);
  if (hit !== undefined) return hit;
  const b = new Uint8Array(8);
  b[0] = v & 0xff;
  b[1] = (v >>> 8) & 0xff;
  b[2] = (v >>> 16) & 0xff;
  b[3] = (v >>> 24) & 0xff;
  const t = intern(k.m.pool, PKRU, b);
  memo.set(key, t);
  return t;
}

/** The PKRU value a token stands for. */
export function pkruValue(k: Kernel, token: number): number {
  const img = k.m.pool.images[PKRU][token];
  return (img[0] | (img[1] << 8) | (img[2] << 16) | (img[3] << 24)) >>> 0;
}

export function rdpkru(k: Kernel, cpu: Cpu): number {
  return hasPkru(k) ? pkruValue(k, cpu.xs.tok[PKRU]) : cpu.pkru;
}

/** WRPKRU by the kernel: the register changes (on CPUs with PKRU init tracking, 0 clears XINUSE[9]). */
export function wrpkru(k: Kernel, cpu: Cpu, v: number): void {
  cpu.pkru = v >>> 0;
  k.st.counters.pkruWrites++;
  charge(k, cpu, 'wrpkru');
  if (!hasPkru(k)) return;
  const xs = cpu.xs;
  xs.tok[PKRU] = pkruToken(k, v);
  if (v === 0 && k.m.profile.quirks.pkruInitTracking) xs.xinuseLo &= ~(1 << PKRU);
  else xs.xinuseLo |= 1 << PKRU;
  xs.xmodLo |= 1 << PKRU;
}

/** pkru_write_default(). */
export function pkruWriteDefault(k: Kernel, cpu: Cpu): void {
  wrpkru(k, cpu, INIT_PKRU);
}

/** The PKRU a kernel access to user memory on behalf of `t` uses now (the live register; -1 if none). */
export function uaccessPkru(k: Kernel, cpu: Cpu, t: Task): number {
  if (k.designs.pkru) return k.designs.pkru.uaccessPkru(k, cpu, t);
  return hasPkru(k) ? rdpkru(k, cpu) : -1;
}

/**
 * get_xsave_addr(fpstate, XFEATURE_PKRU): the PKRU value in a task's XSAVE buffer, or null when
 * XSTATE_BV[PKRU] is clear (the init configuration: an XRSTOR loads 0).
 */
export function xstatePkru(k: Kernel, fps: FpState): number | null {
  const b = fps.area.bytes;
  if ((readU32(b, XSTATE_BV) & (1 << PKRU)) === 0) return null;
  const off = kernelOffset(k, fps, b, PKRU);
  return off < 0 || off + 4 > b.length ? null : readU32(b, off);
}

/** PKRU value `v` into a task's XSAVE buffer, XSTATE_BV[PKRU] set. */
export function setXstatePkru(k: Kernel, fps: FpState, v: number): void {
  const a = fps.area;
  const off = kernelOffset(k, fps, a.bytes, PKRU);
  if (off < 0 || off + 8 > a.bytes.length) return;
  storeComponent(k.m, a, PKRU, pkruToken(k, v), off);
  writeAreaU32(a, XSTATE_BV, (readU32(a.bytes, XSTATE_BV) | (1 << PKRU)) >>> 0);
}

/**
 * A new program's PKRU, init_pkru_value, where the PKRU design keeps it: thread.pkru (5.14+), or — for
 * the designs that restore PKRU from the XSAVE buffer (5.2–5.13, the RFC's) — the buffer too, as 5.x's
 * exec left it (copy_init_pkru_to_fpregs, then the next save).
 */
export function pkruInitThread(k: Kernel, t: Task): void {
  t.pkru = INIT_PKRU;
  if (k.designs.pkru?.restoredFromBuffer && hasPkru(k)) setXstatePkru(k, t.fpu.fpstate, INIT_PKRU);
}

/** The PKRU slot of a (standard-format) signal frame gets value `v` (update_pkru_in_sigframe's __put_user). */
export function writeSigframePkru(k: Kernel, frame: XsaveArea, v: number): void {
  const off = k.m.g.stdOffset[PKRU];
  if (off < 0 || off + 8 > frame.bytes.length) return;
  writeAreaU32(frame, off, v >>> 0);
  writeAreaU32(frame, off + 4, 0);
}
