/** Cost figures overridden from a YAML or JSON file: `{ "xrstor.base": 140, "ipi.base": 3000 }`. */
import { InputError, parseYamlInput, readInputFile } from '../arch/errors.js';
import { FIGURE_KEYS, Figures, isFigureKey } from './figures.js';

export type CostOverrides = Partial<Record<(typeof FIGURE_KEYS)[number], number>>;

export function parseCostOverrides(text: string, where: string): CostOverrides {
  const raw = parseYamlInput(text, where);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError('expected a map of cost keys to cycle counts', where);
  const out: CostOverrides = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    if (!isFigureKey(k)) throw new InputError(`unknown cost key '${k}' (known: ${FIGURE_KEYS.join(', ')})`, `${where}: ${k}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InputError(`'${String(v)}' is not a non-negative number`, `${where}: ${k}`);
    out[k] = v;
  }
  return out;
}

export function loadCostOverrides(path: string): CostOverrides {
  const text = readInputFile(path, 'cost file');
  return parseCostOverrides(text, path);
}

export function applyOverrides(f: Figures, o: CostOverrides, source: string): Figures {
  const out = { ...f };
  for (const [k, v] of Object.entries(o)) if (isFigureKey(k) && v !== undefined) out[k] = { cycles: v, source };
  return out;
}

/** The same figures with some keys scaled by `factor` (sensitivity analysis). */
export function scaleFigures(f: Figures, keys: readonly (keyof Figures)[], factor: number): Figures {
  const out = { ...f };
  for (const k of keys) out[k] = { cycles: f[k].cycles * factor, source: `${f[k].source} ×${factor}` };
  return out;
}
