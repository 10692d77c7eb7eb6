/**
 * Raw CPUID data: a map from "leaf.subleaf" to the four output registers [EAX, EBX, ECX, EDX].
 * Keys are normalized to `0x<leaf hex>.<subleaf decimal>` (the shared/data/cpuid format).
 */

export type CpuidRegs = readonly [number, number, number, number];
export type CpuidLeaves = Readonly<Record<string, CpuidRegs>>;

export function leafKey(leaf: number, subleaf: number): string {
  return `0x${(leaf >>> 0).toString(16)}.${subleaf}`;
}

/** Normalizes a key such as "0.0", "0xD.1" or "0x0000000d.1" to the canonical form; null if malformed. */
export function normalizeLeafKey(key: string): string | null {
  const m = /^(?:0x)?([0-9a-fA-F]+)\.([0-9]+)$/.exec(key.trim());
  if (!m) return null;
  return leafKey(parseInt(m[1], 16), parseInt(m[2], 10));
}

export function cpuid(leaves: CpuidLeaves, leaf: number, subleaf = 0): CpuidRegs | undefined {
  return leaves[leafKey(leaf, subleaf)];
}

/** Register value or 0 when the leaf is absent (what a CPU returns for an unsupported sub-leaf of 0xD). */
export function reg(leaves: CpuidLeaves, leaf: number, subleaf: number, r: 0 | 1 | 2 | 3): number {
  const v = cpuid(leaves, leaf, subleaf);
  return v ? v[r] >>> 0 : 0;
}

export function bitOf(v: number, i: number): boolean {
  return ((v >>> i) & 1) === 1;
}

export const EAX = 0;
export const EBX = 1;
export const ECX = 2;
export const EDX = 3;
