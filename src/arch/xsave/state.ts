/**
 * The extended-state part of one logical CPU: control registers and MSRs that govern XSAVE, the
 * register contents (one token per component, plus MXCSR), and the hidden tracking state the
 * processor keeps for the init and modified optimizations (SDM 13.6): XINUSE, XMODIFIED and the
 * XRSTOR_INFO tuple. Plain data: clone with `cloneXState`, compare with `sameXState`.
 */
import { hiOf, loOf, toBig } from '../mask.js';
import { MXCSR_INIT } from './values.js';

export interface XState {
  /** CR0.TS: any x87/SSE/XSAVE-family instruction raises #NM. */
  cr0Ts: boolean;
  /** CR4.OSXSAVE: XSAVE family and XGETBV/XSETBV enabled (else #UD). */
  cr4Osxsave: boolean;
  /** Current privilege level. */
  cpl: number;
  /** Running in VMX non-root operation (part of the XRSTOR_INFO tuple). */
  vmxNonRoot: boolean;
  xcr0Lo: number;
  xcr0Hi: number;
  /** IA32_XSS (MSR 0DA0H). */
  xssLo: number;
  xssHi: number;
  /** IA32_XFD (MSR 1C4H): armed components. */
  xfdLo: number;
  xfdHi: number;
  /** IA32_XFD_ERR (MSR 1C5H): components whose access raised an XFD #NM. */
  xfdErrLo: number;
  xfdErrHi: number;
  /** Token of each component's current value (index = component number). */
  tok: Int32Array;
  mxcsr: number;
  /** XINUSE: bit i clear guarantees component i is in its init configuration. */
  xinuseLo: number;
  xinuseHi: number;
  /** XMODIFIED: bit i set when component i may differ from what the last XRSTOR* loaded. */
  xmodLo: number;
  xmodHi: number;
  /** XRSTOR_INFO (SDM 13.6): the (CPL, VMX non-root, linear address, XCOMP_BV) of the last XRSTOR*. */
  trkValid: boolean;
  trkCpl: number;
  trkVmx: boolean;
  trkAddr: number;
  trkXcompLo: number;
  trkXcompHi: number;
}

/** State after RESET/INIT: XCR0 = 1, everything in init configuration, CPL 0 (SDM 13.3). */
export function resetXState(): XState {
  return {
    cr0Ts: false,
    cr4Osxsave: false,
    cpl: 0,
    vmxNonRoot: false,
    xcr0Lo: 1,
    xcr0Hi: 0,
    xssLo: 0,
    xssHi: 0,
    xfdLo: 0,
    xfdHi: 0,
    xfdErrLo: 0,
    xfdErrHi: 0,
    tok: new Int32Array(64),
    mxcsr: MXCSR_INIT,
    xinuseLo: 0,
    xinuseHi: 0,
    xmodLo: 0xffff_ffff,
    xmodHi: 0xffff_ffff,
    trkValid: false,
    trkCpl: 0,
    trkVmx: false,
    trkAddr: 0,
    trkXcompLo: 0,
    trkXcompHi: 0,
  };
}

/** Convenience: a CPU as an OS leaves it after enabling XSAVE (CR4.OSXSAVE=1, XCR0, XSS), at a given CPL. */
export function enabledXState(xcr0: bigint, xss = 0n, cpl = 3): XState {
  const s = resetXState();
  s.cr4Osxsave = true;
  s.xcr0Lo = loOf(xcr0);
  s.xcr0Hi = hiOf(xcr0);
  s.xssLo = loOf(xss);
  s.xssHi = hiOf(xss);
  s.cpl = cpl;
  return s;
}

export function cloneXState(s: XState): XState {
  return { ...s, tok: s.tok.slice() };
}

export function sameXState(a: XState, b: XState): boolean {
  for (const k of Object.keys(a) as (keyof XState)[]) {
    if (k === 'tok') continue;
    if (a[k] !== b[k]) return false;
  }
  for (let i = 0; i < 64; i++) if (a.tok[i] !== b.tok[i]) return false;
  return true;
}

export function xcr0Of(s: XState): bigint {
  return toBig(s.xcr0Lo, s.xcr0Hi);
}

export function xinuseOf(s: XState): bigint {
  return toBig(s.xinuseLo, s.xinuseHi);
}
