/**
 * Decoding the XSAVE-relevant CPUID feature flags (SDM Vol. 2A CPUID; AMD APM Vol. 3 appendix E).
 */
import { bitOf, CpuidLeaves, EAX, EBX, ECX, EDX, reg } from './cpuid.js';

export interface CpuFeatures {
  fxsr: boolean;
  xsave: boolean;
  osxsave: boolean;
  avx: boolean;
  avx2: boolean;
  avx512f: boolean;
  mpx: boolean;
  intelPt: boolean;
  pku: boolean;
  ospke: boolean;
  amxTile: boolean;
  amxInt8: boolean;
  amxBf16: boolean;
  xsaveopt: boolean;
  xsavec: boolean;
  xgetbv1: boolean;
  xsaves: boolean;
  xfd: boolean;
  cetSs: boolean;
  cetIbt: boolean;
  enqcmd: boolean;
  uintr: boolean;
  archLbr: boolean;
  hdc: boolean;
  hwp: boolean;
  pcid: boolean;
  invpcid: boolean;
  apx: boolean;
  lwp: boolean;
  /** AMD: FXSAVE/XSAVE always save the x87 error pointers (CPUID 0x80000008 EBX[2]). */
  xsaveErPtr: boolean;
  /** AMD: misaligned SSE mode (MXCSR.MM, bit 17, is writable). */
  misalignSse: boolean;
  /** Intel: FCS and FDS are deprecated and saved as 0 (CPUID 7.0 EBX[13]). */
  zeroFcsFds: boolean;
  /** Intel: FDP updated only on unmasked x87 exceptions (CPUID 7.0 EBX[6]). */
  fdpExcptnOnly: boolean;
}

/** The subset printed by `switchlab cpu`, in order, with the CPUID location of each bit. */
export const FEATURE_SOURCES: ReadonlyArray<readonly [keyof CpuFeatures, string]> = [
  ['xsave', 'CPUID.1:ECX[26]'],
  ['osxsave', 'CPUID.1:ECX[27]'],
  ['avx', 'CPUID.1:ECX[28]'],
  ['avx2', 'CPUID.7.0:EBX[5]'],
  ['avx512f', 'CPUID.7.0:EBX[16]'],
  ['mpx', 'CPUID.7.0:EBX[14]'],
  ['pku', 'CPUID.7.0:ECX[3]'],
  ['ospke', 'CPUID.7.0:ECX[4]'],
  ['amxTile', 'CPUID.7.0:EDX[24]'],
  ['amxInt8', 'CPUID.7.0:EDX[25]'],
  ['amxBf16', 'CPUID.7.0:EDX[22]'],
  ['xsaveopt', 'CPUID.0xD.1:EAX[0]'],
  ['xsavec', 'CPUID.0xD.1:EAX[1]'],
  ['xgetbv1', 'CPUID.0xD.1:EAX[2]'],
  ['xsaves', 'CPUID.0xD.1:EAX[3]'],
  ['xfd', 'CPUID.0xD.1:EAX[4]'],
  ['cetSs', 'CPUID.7.0:ECX[7]'],
  ['cetIbt', 'CPUID.7.0:EDX[20]'],
  ['enqcmd', 'CPUID.7.0:ECX[29]'],
  ['pcid', 'CPUID.1:ECX[17]'],
  ['invpcid', 'CPUID.7.0:EBX[10]'],
  ['apx', 'CPUID.7.1:EDX[21]'],
  ['intelPt', 'CPUID.7.0:EBX[25]'],
  ['uintr', 'CPUID.7.0:EDX[5]'],
  ['archLbr', 'CPUID.7.0:EDX[19]'],
  ['lwp', 'CPUID.0x80000001:ECX[15]'],
  ['xsaveErPtr', 'CPUID.0x80000008:EBX[2]'],
];

export function decodeFeatures(l: CpuidLeaves): CpuFeatures {
  const max = reg(l, 0, 0, EAX);
  const has7 = max >= 7;
  const ecx1 = reg(l, 1, 0, ECX);
  const edx1 = reg(l, 1, 0, EDX);
  const ebx7 = has7 ? reg(l, 7, 0, EBX) : 0;
  const ecx7 = has7 ? reg(l, 7, 0, ECX) : 0;
  const edx7 = has7 ? reg(l, 7, 0, EDX) : 0;
  const edx71 = has7 && reg(l, 7, 0, EAX) >= 1 ? reg(l, 7, 1, EDX) : 0;
  const eaxD1 = max >= 0xd ? reg(l, 0xd, 1, EAX) : 0;
  const eax6 = max >= 6 ? reg(l, 6, 0, EAX) : 0;
  const emax = reg(l, 0x8000_0000, 0, EAX);
  const ecx81 = emax >= 0x8000_0001 ? reg(l, 0x8000_0001, 0, ECX) : 0;
  const ebx88 = emax >= 0x8000_0008 ? reg(l, 0x8000_0008, 0, EBX) : 0;
  const xsave = bitOf(ecx1, 26);
  return {
    fxsr: bitOf(edx1, 24),
    xsave,
    osxsave: bitOf(ecx1, 27),
    avx: bitOf(ecx1, 28),
    avx2: bitOf(ebx7, 5),
    avx512f: bitOf(ebx7, 16),
    mpx: bitOf(ebx7, 14),
    intelPt: bitOf(ebx7, 25),
    pku: bitOf(ecx7, 3),
    ospke: bitOf(ecx7, 4),
    amxTile: bitOf(edx7, 24),
    amxInt8: bitOf(edx7, 25),
    amxBf16: bitOf(edx7, 22),
    xsaveopt: xsave && bitOf(eaxD1, 0),
    xsavec: xsave && bitOf(eaxD1, 1),
    xgetbv1: xsave && bitOf(eaxD1, 2),
    xsaves: xsave && bitOf(eaxD1, 3),
    xfd: xsave && bitOf(eaxD1, 4),
    cetSs: bitOf(ecx7, 7),
    cetIbt: bitOf(edx7, 20),
    enqcmd: bitOf(ecx7, 29),
    uintr: bitOf(edx7, 5),
    archLbr: bitOf(edx7, 19),
    hdc: bitOf(eax6, 13),
    hwp: bitOf(eax6, 7),
    pcid: bitOf(ecx1, 17),
    invpcid: bitOf(ebx7, 10),
    apx: bitOf(edx71, 21),
    lwp: bitOf(ecx81, 15),
    xsaveErPtr: bitOf(ebx88, 2),
    misalignSse: bitOf(ecx81, 7),
    zeroFcsFds: bitOf(ebx7, 13),
    fdpExcptnOnly: bitOf(ebx7, 6),
  };
}
