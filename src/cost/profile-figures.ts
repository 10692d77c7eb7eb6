/**
 * The figures a run uses for a profile: the published defaults of its CPU class, this machine's
 * calibration for the `host` profile when `npm run calibrate` has written one, then a user's overrides.
 */
import { CpuProfile } from '../arch/profile.js';
import { defaultFigures, Figures } from './figures.js';
import { applyOverrides, loadCostOverrides } from './overrides.js';

export function figuresFor(p: CpuProfile, overridesFile?: string): Figures {
  let f = defaultFigures(p);
  if (overridesFile) f = applyOverrides(f, loadCostOverrides(overridesFile), `override from ${overridesFile}`);
  return f;
}
