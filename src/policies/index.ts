/** Every design alternative by kind, and what Linux 6.18 does by default. */
import type { Designs } from '../kernel/designs.js';
import { pkruEager } from './pkru/eager.js';
import { vmalloc } from './xbuf/vmalloc.js';
import { gpFixup } from './pasid/gp-fixup.js';

/** Linux 6.18's choices: vmalloc'ed AMX buffers, PKRU switched eagerly, PASID loaded by the #GP fix-up. */
export function linuxDesigns(extra: Partial<Designs> = {}): Partial<Designs> {
  return { xbuf: vmalloc, pkru: pkruEager, pasid: gpFixup, ...extra };
}
