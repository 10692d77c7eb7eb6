/** JSON output: 64-bit masks as "0x…" strings, two-space indentation, trailing newline. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v), 2) + '\n';
}
