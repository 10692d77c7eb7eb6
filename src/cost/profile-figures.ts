/**
 * The figures a run uses for a profile: the published defaults of its CPU class, this machine's
 * calibration for the `host` profile when `npm run calibrate` has written one for this CPU, then a
 * user's overrides.
 */
import { existsSync } from 'node:fs';
import { CpuProfile } from '../arch/profile.js';
import { packagePath } from '../util/paths.js';
import { applyCalibration, calibrationFits } from './calibrated-figures.js';
import { loadCalibration } from './calibration.js';
import { defaultFigures, Figures } from './figures.js';
import { applyOverrides, loadCostOverrides } from './overrides.js';

export const HOST_CALIBRATION = 'data/calibration/host.json';

export function figuresFor(p: CpuProfile, overridesFile?: string): Figures {
  let f = defaultFigures(p);
  if (p.id === 'host') {
    const path = packagePath(HOST_CALIBRATION);
    if (existsSync(path)) {
      const cal = loadCalibration(path);
      if (calibrationFits(cal, p.brand)) f = applyCalibration(f, cal);
    }
  }
  if (overridesFile) f = applyOverrides(f, loadCostOverrides(overridesFile), `override from ${overridesFile}`);
  return f;
}
