/**
 * What the instruction model needs to know about the processor it runs on: the profile (geometry,
 * enumerated instructions, quirks) and the value pool shared by its register files and XSAVE areas.
 */
import { CpuProfile } from '../profile.js';
import { cpuid, EAX, EBX, ECX, reg } from '../cpuid.js';
import { Geometry, geometryOf } from '../geometry.js';
import { createValuePool, LoadRules, TilePalettes, ValuePool, valueSize } from './values.js';

export interface XMachine {
  readonly profile: CpuProfile;
  readonly g: Geometry;
  readonly pool: ValuePool;
  /** CPUID.(0xD,1):EAX bits: which XSAVE-family instructions exist. */
  readonly hasXsaveopt: boolean;
  readonly hasXsavec: boolean;
  readonly hasXgetbv1: boolean;
  readonly hasXsaves: boolean;
  readonly hasXfd: boolean;
  /** Scratch buffer for decoding (largest component). */
  readonly scratch: Uint8Array;
  /** Components 0, 1 and every supported extended component, ascending. */
  readonly order: Int32Array;
  /** Linear-address width (CPUID 0x80000008 EAX[15:8]); x87 FIP (and FDP on AMD) are canonical to it. */
  readonly laBits: number;
  /** What a load keeps of a component image (x87 pointer rules, TILECFG validity). */
  readonly load: LoadRules;
  /** The component number of TILECFG (17) when the processor has AMX, else -1. */
  readonly tilecfg: number;
  /**
   * Statistics: saves in which the modified optimization skipped at least one component; the bytes
   * of component data the last save wrote and the last restore loaded, and the components the last
   * restore put in their init state (what a cost model charges for).
   */
  readonly stats: { modifiedSkips: number; lastSaveBytes: number; lastRestoreBytes: number; lastRestoreInits: number };
  /** The instruction model's memo of compacted layouts (see compactedOffsets in instructions.ts). */
  readonly compactedMemo: CompactedOffsets[];
}

/** Offsets of the components of a compacted image with XCOMP_BV[62:0] = (lo, hi): off[i], -1 when absent. */
export interface CompactedOffsets {
  lo: number;
  hi: number;
  off: Int32Array;
}

/** Component number of AMX TILECFG (SDM Vol. 1 13.1). */
const TILECFG = 17;

/**
 * The tile palettes from CPUID leaf 1DH. A profile whose dump lacks the leaf gets palette 1 as the ISA
 * Extensions reference defines it for the first AMX implementation (8 tiles, 64 bytes per row, 16 rows).
 */
function palettesOf(p: CpuProfile): TilePalettes {
  const d0 = cpuid(p.leaves, 0x1d, 0);
  const max = d0 ? Math.min(d0[EAX] >>> 0, 15) : 1;
  const pal: TilePalettes = { maxPalette: max, maxNames: new Int32Array(max + 1), bytesPerRow: new Int32Array(max + 1), maxRows: new Int32Array(max + 1) };
  for (let id = 1; id <= max; id++) {
    const sub = d0 ? cpuid(p.leaves, 0x1d, id) : undefined;
    pal.maxNames[id] = sub ? Math.min(sub[EBX] >>> 16, 16) : 8;
    pal.bytesPerRow[id] = sub ? sub[EBX] & 0xffff : 64;
    pal.maxRows[id] = sub ? sub[ECX] & 0xffff : 16;
  }
  return pal;
}

export function createMachine(p: CpuProfile): XMachine {
  const g = geometryOf(p);
  let max = 256;
  for (const c of p.components) max = Math.max(max, valueSize(p, c.index));
  const laBits = ((reg(p.leaves, 0x8000_0008, 0, EAX) >>> 8) & 0xff) || 48;
  const tilecfg = g.size[TILECFG] === 64 && !g.supervisor[TILECFG] ? TILECFG : -1;
  const load: LoadRules = {
    laBits,
    pointersNeedEs: p.quirks.x87PointersZeroWithoutEs,
    fdpCanonical: p.quirks.x87FdpCanonical,
    tilecfg,
    palettes: palettesOf(p),
  };
  return {
    profile: p,
    g,
    pool: createValuePool(p),
    hasXsaveopt: p.features.xsaveopt,
    hasXsavec: p.features.xsavec,
    hasXgetbv1: p.features.xgetbv1,
    hasXsaves: p.features.xsaves,
    hasXfd: p.features.xfd,
    scratch: new Uint8Array(max),
    order: Int32Array.from([0, 1, ...g.extended]),
    laBits,
    load,
    tilecfg,
    stats: { modifiedSkips: 0, lastSaveBytes: 0, lastRestoreBytes: 0, lastRestoreInits: 0 },
    compactedMemo: [],
  };
}
