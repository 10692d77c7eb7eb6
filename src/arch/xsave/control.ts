/**
 * XGETBV, XSETBV and the XSAVE-related MSRs (IA32_XSS, IA32_XFD, IA32_XFD_ERR), with their faults.
 */
import { fault, Fault, Outcome } from './fault.js';
import { XMachine } from './machine.js';
import { XState } from './state.js';
import { hiOf, loOf, toBig } from '../mask.js';
import { xcr0Problem, xssProblem } from '../layout.js';
import { intern, MXCSR_INIT } from './values.js';
import { writeComponent } from './registers.js';

export const MSR_IA32_XSS = 0xda0;
export const MSR_IA32_XFD = 0x1c4;
export const MSR_IA32_XFD_ERR = 0x1c5;
/**
 * IA32_PASID (MSR D93H, present when CPUID.(7,0):ECX[29] enumerates ENQCMD): bits 19:0 the PASID ENQCMD
 * sends, bit 31 valid (ENQCMD raises #GP while it is clear); bits 30:20 and 63:32 are reserved. Its
 * value is XSAVE supervisor state component 10, so the register file keeps it as tok[10]: the token of
 * its 8-byte little-endian image (0, the init configuration, is token 0).
 */
export const MSR_IA32_PASID = 0xd93;
export const PASID_COMPONENT = 10;
export const MSR_IA32_PASID_VALID = 0x8000_0000;
export const PASID_MASK = 0xf_ffff;

export type ReadResult = { value: bigint; fault: null } | { value: null; fault: Fault };

function ok(value: bigint): ReadResult {
  return { value, fault: null };
}
function bad(f: Fault): ReadResult {
  return { value: null, fault: f };
}

/** XGETBV (SDM Vol. 2): ECX=0 -> XCR0; ECX=1 -> XCR0 & XINUSE (needs CPUID.(0xD,1):EAX[2]); else #GP. */
export function xgetbv(m: XMachine, s: XState, ecx: number): ReadResult {
  if (!s.cr4Osxsave) return bad(fault('#UD', 'CR4.OSXSAVE is 0'));
  if (ecx === 0) return ok(toBig(s.xcr0Lo, s.xcr0Hi));
  if (ecx === 1 && m.hasXgetbv1) {
    let lo = s.xinuseLo;
    if (m.profile.quirks.xgetbv1SseIncludesMxcsr && s.mxcsr !== MXCSR_INIT) lo |= 2;
    return ok(toBig(s.xcr0Lo & lo, s.xcr0Hi & s.xinuseHi));
  }
  return bad(fault('#GP', `XGETBV with ECX=${ecx}`));
}

/**
 * XSETBV: CPL 0 only; XCR0 must obey the dependency rules (x87 set, AVX needs SSE, AVX-512 and AMX
 * all-or-none, MPX pair) and name only supported user components. Components turned off return to
 * their init configuration.
 */
export function xsetbv(m: XMachine, s: XState, ecx: number, value: bigint): Outcome {
  if (!s.cr4Osxsave) return fault('#UD', 'CR4.OSXSAVE is 0');
  if (s.cpl !== 0) return fault('#GP', `XSETBV at CPL ${s.cpl}`);
  if (ecx !== 0) return fault('#GP', `XSETBV with ECX=${ecx}`);
  const problem = xcr0Problem(m.profile, value);
  if (problem) return fault('#GP', `XCR0 ${'0x' + value.toString(16)}: ${problem}`);
  const lo = loOf(value);
  const hi = hiOf(value);
  for (let i = 0; i < 64; i++) {
    const on = i < 32 ? (lo >>> i) & 1 : (hi >>> (i - 32)) & 1;
    if (!on && s.tok[i] !== 0 && !m.g.supervisor[i]) s.tok[i] = 0;
  }
  s.xinuseLo = (s.xinuseLo & (lo | s.xssLo)) >>> 0;
  s.xinuseHi = (s.xinuseHi & (hi | s.xssHi)) >>> 0;
  s.xcr0Lo = lo;
  s.xcr0Hi = hi;
  return null;
}

function xfdCapable(m: XMachine, value: bigint): boolean {
  for (let i = 0; i < 64; i++) if ((value >> BigInt(i)) & 1n && !m.g.xfd[i]) return false;
  return true;
}

/** WRMSR to IA32_XSS / IA32_XFD / IA32_XFD_ERR (CPL 0; #GP on reserved bits or missing support). */
export function wrmsr(m: XMachine, s: XState, msr: number, value: bigint): Outcome {
  if (s.cpl !== 0) return fault('#GP', `WRMSR at CPL ${s.cpl}`);
  switch (msr) {
    case MSR_IA32_XSS: {
      if (!m.hasXsaves) return fault('#GP', 'IA32_XSS does not exist (no XSAVES)');
      const p = xssProblem(m.profile, value);
      if (p) return fault('#GP', `IA32_XSS: ${p}`);
      s.xssLo = loOf(value);
      s.xssHi = hiOf(value);
      return null;
    }
    case MSR_IA32_XFD:
    case MSR_IA32_XFD_ERR: {
      if (!m.hasXfd) return fault('#GP', 'IA32_XFD does not exist (CPUID.(0xD,1):EAX[4]=0)');
      if (!xfdCapable(m, value)) return fault('#GP', 'XFD set for a component without XFD support (CPUID.(0xD,i):ECX[2]=0)');
      if (msr === MSR_IA32_XFD) {
        s.xfdLo = loOf(value);
        s.xfdHi = hiOf(value);
      } else {
        s.xfdErrLo = loOf(value);
        s.xfdErrHi = hiOf(value);
      }
      return null;
    }
    case MSR_IA32_PASID: {
      if (!hasPasidMsr(m)) return fault('#GP', 'IA32_PASID does not exist (CPUID.(7,0):ECX[29] = 0)');
      if ((value & ~BigInt(PASID_MASK | MSR_IA32_PASID_VALID)) !== 0n) return fault('#GP', `IA32_PASID 0x${value.toString(16)} sets reserved bits`);
      // The register changes like any written component: XINUSE[10] and XMODIFIED[10] set.
      return writeComponent(s, PASID_COMPONENT, pasidToken(m, Number(value)));
    }
    default:
      return fault('#GP', `WRMSR to unmodeled MSR 0x${msr.toString(16)}`);
  }
}

export function rdmsr(m: XMachine, s: XState, msr: number): ReadResult {
  if (s.cpl !== 0) return bad(fault('#GP', `RDMSR at CPL ${s.cpl}`));
  if (msr === MSR_IA32_XSS && m.hasXsaves) return ok(toBig(s.xssLo, s.xssHi));
  if (msr === MSR_IA32_XFD && m.hasXfd) return ok(toBig(s.xfdLo, s.xfdHi));
  if (msr === MSR_IA32_XFD_ERR && m.hasXfd) return ok(toBig(s.xfdErrLo, s.xfdErrHi));
  if (msr === MSR_IA32_PASID && hasPasidMsr(m)) return ok(BigInt(pasidOfToken(m, s.tok[PASID_COMPONENT])));
  return bad(fault('#GP', `RDMSR of unsupported MSR 0x${msr.toString(16)}`));
}

/** The processor has IA32_PASID and the model can hold its value (component 10 has its 8-byte image). */
export function hasPasidMsr(m: XMachine): boolean {
  return m.profile.features.enqcmd && m.g.size[PASID_COMPONENT] === 8;
}

/** The token of IA32_PASID value `value` (32 bits; the upper 4 bytes of the image are 0). */
export function pasidToken(m: XMachine, value: number): number {
  const b = new Uint8Array(8);
  b[0] = value & 0xff;
  b[1] = (value >>> 8) & 0xff;
  b[2] = (value >>> 16) & 0xff;
  b[3] = (value >>> 24) & 0xff;
  return intern(m.pool, PASID_COMPONENT, b);
}

/** The IA32_PASID value a component-10 token holds. */
export function pasidOfToken(m: XMachine, token: number): number {
  const b = m.pool.images[PASID_COMPONENT][token];
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}
