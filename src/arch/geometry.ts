/**
 * Per-profile component geometry in flat typed arrays, computed once per profile and cached, so that
 * layouts and the instruction model never search the component list on a hot path.
 */
import { CpuProfile } from './profile.js';

export interface Geometry {
  /** size[i], 0 when component i is not supported (i < 64). Components 0 and 1 live in the legacy region. */
  readonly size: Int32Array;
  /** Standard-format offset, -1 for supervisor or unsupported components. */
  readonly stdOffset: Int32Array;
  readonly align64: Uint8Array;
  readonly supervisor: Uint8Array;
  readonly xfd: Uint8Array;
  /** Supported extended components (>= 2), ascending. */
  readonly extended: Int32Array;
  /** A two-entry memo of compacted sizes by mask (lo, hi, size) × 2: the hot paths reuse a few masks. */
  readonly sizeMemo: Float64Array;
}

export const LEGACY_SIZE = 512;
export const HEADER_SIZE = 64;
export const XSAVE_HDR_OFFSET = 512;
export const EXTENDED_BASE = LEGACY_SIZE + HEADER_SIZE; // 576

const cache = new WeakMap<CpuProfile, Geometry>();

export function geometryOf(p: CpuProfile): Geometry {
  let g = cache.get(p);
  if (g) return g;
  const size = new Int32Array(64);
  const stdOffset = new Int32Array(64).fill(-1);
  const align64 = new Uint8Array(64);
  const supervisor = new Uint8Array(64);
  const xfd = new Uint8Array(64);
  // Components 0 and 1 occupy the legacy region (SDM 13.4.1).
  size[0] = 160;
  stdOffset[0] = 0;
  size[1] = 256;
  stdOffset[1] = 160;
  for (const c of p.components) {
    size[c.index] = c.size;
    stdOffset[c.index] = c.supervisor ? -1 : c.offset;
    align64[c.index] = c.align64 ? 1 : 0;
    supervisor[c.index] = c.supervisor ? 1 : 0;
    xfd[c.index] = c.xfd ? 1 : 0;
  }
  g = { size, stdOffset, align64, supervisor, xfd, extended: Int32Array.from(p.components.map((c) => c.index)), sizeMemo: new Float64Array([-1, -1, 0, -1, -1, 0]) };
  cache.set(p, g);
  return g;
}
