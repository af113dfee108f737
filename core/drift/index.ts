/** Schema drift: the live database against what its migrations build. The check adapter calls `detectDrift`. */
export { detectDrift, compareDatabases, migrationsForReference, type DetectDriftInput, type DriftReport } from './detect.ts';
export type { DriftFinding, DriftKind, FieldChange, ObjectType } from './model.ts';
export type { ReferencePlace } from './reference.ts';
