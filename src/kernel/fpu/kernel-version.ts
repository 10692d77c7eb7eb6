/**
 * Linux kernel versions as the FPU model understands them: mainline releases 4.0 .. 6.18, with an
 * optional stable patch level ("6.1.20") that matters for the few fixes that were backported.
 */
import { InputError } from '../../arch/errors.js';

export interface KernelVersion {
  major: number;
  minor: number;
  /** Stable patch level; null for a bare mainline release ("6.18"). */
  patch: number | null;
  /** The normalized text, e.g. "6.18.44". */
  text: string;
}

/** The last minor of each major series (4.20 and 5.19 were the last of theirs). */
const LAST_MINOR: Readonly<Record<number, number>> = { 4: 20, 5: 19, 6: 18 };

export const OLDEST_KERNEL = '4.0';
export const NEWEST_KERNEL = '6.18';

/**
 * Parses "6.18", "6.18.44", "v5.15", "5.4" (and a `uname -r` style suffix: "6.18.44-fc-v657").
 * Throws InputError naming `--kernel` for malformed, too old (< 4.0) or unknown (> 6.18) versions.
 */
export function parseKernelVersion(text: string, where = '--kernel'): KernelVersion {
  const m = /^v?(\d{1,2})\.(\d{1,2})(?:\.(\d{1,4}))?(?:-[0-9A-Za-z][0-9A-Za-z._+~-]*)?$/.exec(text.trim());
  if (!m) throw new InputError(`"${text}" is not a kernel version (expected e.g. 6.18, 6.18.44 or v5.15)`, where);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] === undefined ? null : Number(m[3]);
  if (major < 4) throw new InputError(`Linux ${major}.${minor} is too old: the model covers ${OLDEST_KERNEL} to ${NEWEST_KERNEL}`, where);
  const last = LAST_MINOR[major];
  if (last === undefined || minor > last) {
    throw new InputError(`Linux ${major}.${minor} is unknown: the model covers ${OLDEST_KERNEL} to ${NEWEST_KERNEL}`, where);
  }
  return { major, minor, patch, text: patch === null ? `${major}.${minor}` : `${major}.${minor}.${patch}` };
}

/** Accepts a parsed version or its text. */
export function toKernelVersion(v: KernelVersion | string): KernelVersion {
  return typeof v === 'string' ? parseKernelVersion(v) : v;
}

/** True when the mainline release of `v` is `major.minor` or later. */
export function atLeast(v: KernelVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/**
 * A change merged in mainline `since` and backported to stable branches: `stable` maps a branch
 * ("6.1") to the first patch level that has it. A bare version ("6.1") of a branch counts as not
 * having the backport.
 */
export function hasChange(v: KernelVersion, since: readonly [number, number], stable: Readonly<Record<string, number>> = {}): boolean {
  if (atLeast(v, since[0], since[1])) return true;
  const first = stable[`${v.major}.${v.minor}`];
  return first !== undefined && v.patch !== null && v.patch >= first;
}
