/**
 * The catalogue of XSAVE state components (SDM Vol. 1 ch. 13, Table 13-1) as an OS-independent fact
 * table: number, name, whether it is a user (XCR0) or supervisor (IA32_XSS) component, whether it can
 * be disabled by XFD, and its architectural size. Geometry actually used by the model (size, offset,
 * alignment) always comes from a CPU profile's CPUID leaf 0xD, never from this table; the sizes here
 * are what the SDM defines and serve only to cross-check profiles and to fill a sub-leaf that a dump
 * lost (recorded as "inferred" on the profile).
 */

export interface ComponentInfo {
  readonly index: number;
  /** Short identifier, as in Linux's XFEATURE_* names. */
  readonly key: string;
  /** Human name (SDM wording). */
  readonly name: string;
  /** Name in the layout table (the README / JSON "name" field). */
  readonly title: string;
  /** Managed through IA32_XSS (XSAVES/XRSTORS only) rather than XCR0. SDM 13.2. */
  readonly supervisor: boolean;
  /** Architecturally defined as XFD-capable (only AMX TILEDATA today; CPUID 0xD.i ECX[2] decides per CPU). */
  readonly xfdCapable: boolean;
  /** Architectural size in bytes (null where it is implementation-defined, e.g. Arch LBR depth). */
  readonly archSize: number | null;
}

const C = (
  index: number,
  key: string,
  title: string,
  name: string,
  supervisor: boolean,
  archSize: number | null,
  xfdCapable = false,
): ComponentInfo => ({ index, key, title, name, supervisor, archSize, xfdCapable });

export const COMPONENTS: readonly ComponentInfo[] = [
  C(0, 'FP', 'x87 floating point registers', 'x87 FPU state (FCW..FDS, ST0-ST7)', false, 160),
  C(1, 'SSE', 'SSE registers', 'SSE state (XMM0-XMM15, MXCSR)', false, 256),
  C(2, 'YMM', 'AVX registers', 'AVX state (upper halves of YMM0-YMM15)', false, 256),
  C(3, 'BNDREGS', 'MPX bounds registers', 'MPX BNDREGS (BND0-BND3)', false, 64),
  C(4, 'BNDCSR', 'MPX CSR', 'MPX BNDCSR (BNDCFGU, BNDSTATUS)', false, 64),
  C(5, 'OPMASK', 'AVX-512 opmask', 'AVX-512 opmask (k0-k7)', false, 64),
  C(6, 'ZMM_Hi256', 'AVX-512 ZMM_Hi256', 'AVX-512 ZMM_Hi256 (upper 256 bits of ZMM0-ZMM15)', false, 512),
  C(7, 'Hi16_ZMM', 'AVX-512 Hi16_ZMM', 'AVX-512 Hi16_ZMM (ZMM16-ZMM31)', false, 1024),
  C(8, 'PT', 'Processor Trace', 'Intel Processor Trace MSRs', true, 128),
  C(9, 'PKRU', 'Protection Keys User registers', 'PKRU (user protection keys)', false, 8),
  C(10, 'PASID', 'PASID state', 'IA32_PASID', true, 8),
  C(11, 'CET_USER', 'Control-flow User registers', 'CET user state (IA32_U_CET, IA32_PL3_SSP)', true, 16),
  C(12, 'CET_KERNEL', 'Control-flow Kernel registers', 'CET supervisor state (IA32_PL0/1/2_SSP)', true, 24),
  C(13, 'HDC', 'HDC state', 'Hardware Duty Cycling (IA32_PM_CTL1)', true, 8),
  C(14, 'UINTR', 'User interrupts', 'User interrupt state (UIHANDLER, UISTACKADJUST, UIRR, UITT, UPID...)', true, 48),
  C(15, 'LBR', 'Architectural LBR', 'Architectural LBR state (IA32_LBR_CTL, depth, records)', true, null),
  C(16, 'HWP', 'HWP state', 'Hardware P-states (IA32_HWP_REQUEST)', true, 8),
  C(17, 'XTILE_CFG', 'AMX Tile config', 'AMX TILECFG (tile configuration)', false, 64),
  C(18, 'XTILE_DATA', 'AMX Tile data', 'AMX TILEDATA (TMM0-TMM7)', false, 8192, true),
  C(19, 'APX', 'APX registers', 'APX extended GPRs (R16-R31)', false, 128),
];

/** AMD Lightweight Profiling: an XCR0 (user) component, bit 62, on family 15h parts (AMD APM vol. 2). */
export const LWP: ComponentInfo = C(62, 'LWP', 'AMD Lightweight Profiling', 'AMD LWP control block state', false, 128);

const BY_INDEX = new Map<number, ComponentInfo>([...COMPONENTS, LWP].map((c) => [c.index, c]));

export function componentInfo(i: number): ComponentInfo {
  return (
    BY_INDEX.get(i) ?? {
      index: i,
      key: `XFEATURE_${i}`,
      title: `component ${i}`,
      name: `state component ${i}`,
      supervisor: false,
      xfdCapable: false,
      archSize: null,
    }
  );
}

/** Component numbers that exist architecturally (0–19 and 62). */
export const KNOWN_COMPONENTS: readonly number[] = [...COMPONENTS.map((c) => c.index), 62];

export const X87 = 0;
export const SSE = 1;
export const AVX = 2;
export const BNDREGS = 3;
export const BNDCSR = 4;
export const OPMASK = 5;
export const ZMM_HI256 = 6;
export const HI16_ZMM = 7;
export const PT = 8;
export const PKRU = 9;
export const PASID = 10;
export const CET_U = 11;
export const CET_S = 12;
export const TILECFG = 17;
export const TILEDATA = 18;
export const APX = 19;

export const MASK_FPSSE = 0x3n;
export const MASK_AVX512 = 0xe0n;
export const MASK_AMX = 0x60000n;
export const MASK_MPX = 0x18n;
