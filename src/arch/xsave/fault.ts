/**
 * Faults raised by the modeled CPU. They are values returned by the instruction functions, never
 * JavaScript exceptions (a #GP is an outcome to compare with real silicon, not a bug).
 */
export type FaultVector = '#GP' | '#UD' | '#NM' | '#AC' | '#PF';

export interface Fault {
  readonly vector: FaultVector;
  /** Which architectural rule raised it, in one phrase (shown in traces and counterexamples). */
  readonly reason: string;
}

export function fault(vector: FaultVector, reason: string): Fault {
  return { vector, reason };
}

/** The result of an instruction: null when it completed, a Fault otherwise. */
export type Outcome = Fault | null;
