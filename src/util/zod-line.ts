/** A zod validation error as one line: the path of the first problem and its message. */
import type { z } from 'zod';

export function zodLine(e: z.ZodError): string {
  const i = e.issues[0];
  const path = i.path.length ? i.path.map(String).join('.') : '(top level)';
  return `${path}: ${i.message}`;
}
