/** Paths of repository files from compiled tests (dist/test/... -> repo root). */
import { fileURLToPath } from 'node:url';

export function repoPath(rel: string): string {
  const up = import.meta.url.includes('/dist/') ? '../../../' : '../../';
  return fileURLToPath(new URL(up + rel, import.meta.url));
}
