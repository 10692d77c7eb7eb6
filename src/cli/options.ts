/**
 * Parsing of CLI option values into model values, with errors that name the flag.
 */
import { InputError } from '../arch/errors.js';
import { parseMask } from '../arch/mask.js';

export function maskOption(flag: string, text: string | undefined): bigint | undefined {
  if (text === undefined) return undefined;
  const v = parseMask(text);
  if (v === null) throw new InputError(`'${text}' is not a 64-bit mask (write it as hex, e.g. 0x2e7)`, flag);
  return v;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** The --cpu option every profile command takes (repeatable). */
export const CPU_OPTION_HELP = 'host, a built-in name, a CPUID file or a directory (repeatable)';

/** An integer flag in [min, max]. */
export function intOption(flag: string, text: string, min: number, max: number): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(v) || v < min || v > max) throw new InputError(`'${text}' is not an integer from ${min} to ${max}`, flag);
  return v;
}
