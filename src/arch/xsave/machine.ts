/**
 * What the instruction model needs to know about the processor it runs on: the profile (geometry,
 * enumerated instructions, quirks) and the value pool shared by its register files and XSAVE areas.
 */
import { CpuProfile } from '../profile.js';
import { EAX, reg } from '../cpuid.js';
import { Geometry, geometryOf } from '../geometry.js';
import { createValuePool, ValuePool, valueSize } from './values.js';

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
  /** Linear-address width (CPUID 0x80000008 EAX[15:8]); x87 FIP/FDP are canonical to it. */
  readonly laBits: number;
}

export function createMachine(p: CpuProfile): XMachine {
  const g = geometryOf(p);
  let max = 256;
  for (const c of p.components) max = Math.max(max, valueSize(p, c.index));
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
    laBits: ((reg(p.leaves, 0x8000_0008, 0, EAX) >>> 8) & 0xff) || 48,
  };
}
