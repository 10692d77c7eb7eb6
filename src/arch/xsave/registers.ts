/**
 * Instructions other than the XSAVE family that touch extended state, reduced to their effect on the
 * tracking state: a write to component i (any AVX/x87/AMX instruction) sets XINUSE[i] and XMODIFIED[i]
 * (SDM 13.6); an access to a component armed in IA32_XFD raises #NM and records it in IA32_XFD_ERR
 * (SDM 13.14); CR0.TS makes x87/SSE/AVX instructions raise #NM.
 */
import { fault, Outcome } from './fault.js';
import { XState } from './state.js';

function setBit(lo: number, i: number): number {
  return (lo | (1 << i)) >>> 0;
}

/** The XFD/TS checks every instruction using component i performs before touching it. */
export function accessCheck(s: XState, i: number): Outcome {
  if (s.cr0Ts && i <= 7) return fault('#NM', 'CR0.TS is 1');
  const armed = i < 32 ? (s.xfdLo >>> i) & 1 : (s.xfdHi >>> (i - 32)) & 1;
  if (armed) {
    if (i < 32) s.xfdErrLo = setBit(s.xfdErrLo, i);
    else s.xfdErrHi = setBit(s.xfdErrHi, i - 32);
    return fault('#NM', `component ${i} is armed in IA32_XFD`);
  }
  return null;
}

/** A user instruction writes value `token` into component i. */
export function writeComponent(s: XState, i: number, token: number): Outcome {
  const f = accessCheck(s, i);
  if (f) return f;
  s.tok[i] = token;
  if (i < 32) {
    s.xinuseLo = setBit(s.xinuseLo, i);
    s.xmodLo = setBit(s.xmodLo, i);
  } else {
    s.xinuseHi = setBit(s.xinuseHi, i - 32);
    s.xmodHi = setBit(s.xmodHi, i - 32);
  }
  return null;
}

/**
 * WRPKRU from user mode: PKRU gets `token`'s value; with `initTracking` (AMD) a value of 0 (token 0, the
 * init configuration) clears XINUSE[PKRU] instead of setting it.
 */
export function writePkru(s: XState, token: number, initTracking: boolean): Outcome {
  const f = writeComponent(s, 9, token);
  if (!f && token === 0 && initTracking) s.xinuseLo &= ~(1 << 9);
  return f;
}

/** An instruction that returns component i to its init configuration and clears XINUSE[i] (VZEROUPPER for AVX, TILERELEASE for AMX). */
export function initComponent(s: XState, i: number): Outcome {
  const f = accessCheck(s, i);
  if (f) return f;
  s.tok[i] = 0;
  if (i < 32) {
    s.xinuseLo = (s.xinuseLo & ~(1 << i)) >>> 0;
    s.xmodLo = setBit(s.xmodLo, i);
  } else {
    s.xinuseHi = (s.xinuseHi & ~(1 << (i - 32))) >>> 0;
    s.xmodHi = setBit(s.xmodHi, i - 32);
  }
  return null;
}

/** LDMXCSR: MXCSR is not a component; a write does not set XINUSE[1] (SDM 13.6) but the value is state. */
export function writeMxcsr(s: XState, value: number, mxcsrMask: number): Outcome {
  if (s.cr0Ts) return fault('#NM', 'CR0.TS is 1');
  if ((value & ~mxcsrMask) !== 0) return fault('#GP', `LDMXCSR 0x${value.toString(16)} sets reserved bits`);
  s.mxcsr = value >>> 0;
  s.xmodLo = setBit(s.xmodLo, 1);
  return null;
}
