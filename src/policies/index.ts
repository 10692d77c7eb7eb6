/** Every design alternative by kind, and what Linux 6.18 does by default. */
import type { Designs } from '../kernel/designs.js';
import { pkruEager } from './pkru/eager.js';
import { vmalloc } from './xbuf/vmalloc.js';

/** Linux 6.18's choices: vmalloc'ed AMX buffers, PKRU switched eagerly (the PASID policy joins when given). */
export function linuxDesigns(extra: Partial<Designs> = {}): Partial<Designs> {
  return { xbuf: vmalloc, pkru: pkruEager, ...extra };
}
