/** Files shipped with the package (data/, native/), found from this module whether run from src/ or dist/src/. */
import { fileURLToPath } from 'node:url';

export function packagePath(rel: string): string {
  const up = import.meta.url.includes('/dist/') ? '../../../' : '../../';
  return fileURLToPath(new URL(up + rel, import.meta.url));
}
