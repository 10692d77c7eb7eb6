/** The buffer designs for large (AMX) XSAVE state, by name. */
import { InputError } from '../../arch/errors.js';
import type { XbufDesign } from '../../kernel/designs.js';
import { kmapWindow } from './kmap-window.js';
import { percpuBounce } from './percpu-bounce.js';
import { vmalloc } from './vmalloc.js';
import { vmallocCache } from './vmalloc-cache.js';

export const XBUF_DESIGNS: readonly XbufDesign[] = [vmalloc, vmallocCache, percpuBounce, kmapWindow];

export function xbufDesign(name: string, where = '--xbuf'): XbufDesign {
  const d = XBUF_DESIGNS.find((x) => x.name === name);
  if (!d) throw new InputError(`unknown buffer design '${name}' (known: ${XBUF_DESIGNS.map((x) => x.name).join(', ')})`, where);
  return d;
}
