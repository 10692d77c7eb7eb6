/**
 * CPU profiles from JSON: the `shared/data/cpuid` dump format (`{"id", "source", "leaves": {"0x0.0":
 * [eax, ebx, ecx, edx], …}}`) and the host-file format (`{"id", "cpuid": {"0.0": […]}, …}`).
 */
import { CpuidLeaves, CpuidRegs, normalizeLeafKey } from '../cpuid.js';
import { InputError } from '../errors.js';
import { buildProfile, CpuProfile, ProfileSource } from '../profile.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates and normalizes a `leaves` object; errors name the field. */
export function leavesFromJson(raw: unknown, where: string, field: string): CpuidLeaves {
  if (!isRecord(raw)) throw new InputError(`"${field}" must be an object mapping "LEAF.SUBLEAF" to [eax, ebx, ecx, edx]`, where);
  const out: Record<string, CpuidRegs> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = normalizeLeafKey(k);
    if (key === null) throw new InputError(`"${field}.${k}": not a CPUID leaf key (expected e.g. "0xd.1")`, where);
    if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff_ffff)) {
      throw new InputError(`"${field}.${k}": expected four unsigned 32-bit integers [eax, ebx, ecx, edx]`, where);
    }
    const r = v as number[];
    out[key] = [r[0] >>> 0, r[1] >>> 0, r[2] >>> 0, r[3] >>> 0];
  }
  return out;
}

/** Parses JSON text (either format) into a profile. `fallbackId` is used when the JSON has no "id". */
export function profileFromJson(text: string, where: string, fallbackId: string, kind: ProfileSource['kind'] = 'json'): CpuProfile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new InputError(`not valid JSON (${msg})`, where);
  }
  if (!isRecord(j)) throw new InputError('expected a JSON object with "leaves" (or "cpuid")', where);
  const field = 'leaves' in j ? 'leaves' : 'cpuid' in j ? 'cpuid' : null;
  if (field === null) throw new InputError('no "leaves" (or "cpuid") object: not a CPUID profile', where);
  const leaves = leavesFromJson(j[field], where, field);
  const id = typeof j.id === 'string' && j.id !== '' ? j.id : fallbackId;
  const src = j.source;
  const origin =
    isRecord(src) && typeof src.repo === 'string' && typeof src.path === 'string'
      ? { repo: src.repo, path: src.path, commit: typeof src.commit === 'string' ? src.commit : undefined }
      : undefined;
  return buildProfile(leaves, {
    id,
    source: { kind, file: where, origin },
    vendor: typeof j.vendor === 'string' ? j.vendor : undefined,
    brand: typeof j.brand === 'string' ? j.brand : undefined,
  }, where);
}
