/**
 * Moving one component's value between the register file (a token) and an XSAVE area (bytes),
 * through the area's slot cache.
 */
import { dropSlots, setSlot, SLOT_OFF, SLOT_STRIDE, SLOT_TOK, XsaveArea } from './area.js';
import { XMachine } from './machine.js';
import { intern, normalizeLoaded } from './values.js';

/** Write token `t` of component i at offset `off` (x87 skips bytes 24..31, which hold MXCSR). */
export function storeComponent(m: XMachine, a: XsaveArea, i: number, t: number, off: number): void {
  const sl = a.slots;
  if (sl[SLOT_STRIDE * i + SLOT_OFF] === off && sl[SLOT_STRIDE * i + SLOT_TOK] === t) return; // the bytes already hold exactly this value
  const img = m.pool.images[i][t];
  const b = a.bytes;
  if (i === 0) {
    for (let k = 0; k < 24; k++) b[off + k] = img[k];
    for (let k = 32; k < 160; k++) b[off + k] = img[k];
  } else {
    b.set(img, off);
  }
  dropSlots(a, off, img.length, i);
  setSlot(a, i, off, t, img.length);
}

/** Token for the value component i would hold after loading the bytes at `off`. */
export function loadComponent(m: XMachine, a: XsaveArea, i: number, off: number): number {
  const sl = a.slots;
  if (sl[SLOT_STRIDE * i + SLOT_OFF] === off) return sl[SLOT_STRIDE * i + SLOT_TOK];
  const size = m.pool.images[i][0].length;
  const changed = normalizeLoaded(i, a.bytes, off, m.scratch, size, m.load);
  const t = intern(m.pool, i, m.scratch, 0);
  if (!changed) {
    // The bytes are exactly what a save of this value writes: remember them.
    dropSlots(a, off, size, i);
    setSlot(a, i, off, t, size);
  }
  return t;
}
