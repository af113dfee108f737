import { UserError } from '../errors.ts';
import { TARGET_KINDS, type TargetKind } from '../config/target-settings.ts';

/**
 * Backup file names sort by time and say where they came from:
 * `local-20261125T031500Z.dump`, `prod-20261125T031500Z-pre-reset.dump`.
 */
export const DUMP_EXTENSION = '.dump';
export const MANIFEST_EXTENSION = '.json';

const LABEL = /^[a-z0-9][a-z0-9-]{0,39}$/;
const NAME = new RegExp(`^(${TARGET_KINDS.join('|')})-(\\d{8}T\\d{6}Z)(?:-([a-z0-9][a-z0-9-]*))?\\${DUMP_EXTENSION}$`);

/** `2026-11-25T03:15:00.123Z` → `20261125T031500Z`. */
export function compactStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function parseStamp(stamp: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (!m) throw new Error(`not a backup time stamp: ${stamp}`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

export function validateLabel(label: string): string {
  if (!LABEL.test(label)) {
    throw new UserError(`invalid backup label "${label.slice(0, 50)}"`, 'use 1-40 lower-case letters, digits and dashes, e.g. before-migration');
  }
  return label;
}

export function backupName(target: TargetKind, at: Date, label?: string): string {
  return `${target}-${compactStamp(at)}${label ? `-${validateLabel(label)}` : ''}${DUMP_EXTENSION}`;
}

export interface ParsedBackupName {
  target: TargetKind;
  at: Date;
  label: string | undefined;
}

export function parseBackupName(name: string): ParsedBackupName | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { target: m[1] as TargetKind, at: parseStamp(m[2]!), label: m[3] };
}

export function isBackupName(name: string): boolean {
  return parseBackupName(name) !== undefined;
}

/** The manifest sits next to its dump: `x.dump` → `x.json`. */
export function manifestNameFor(dumpName: string): string {
  return dumpName.slice(0, -DUMP_EXTENSION.length) + MANIFEST_EXTENSION;
}

/** A name not yet taken: the plain one, else with `-2`, `-3`… in the label, so two backups in one second both keep. */
export async function uniqueBackupName(target: TargetKind, at: Date, label: string | undefined, taken: (name: string) => boolean | Promise<boolean>): Promise<string> {
  const first = backupName(target, at, label);
  if (!(await taken(first))) return first;
  for (let i = 2; i < 100; i++) {
    const n = backupName(target, at, label ? `${label}-${i}` : String(i));
    if (!(await taken(n))) return n;
  }
  throw new UserError(`too many backups named ${first} in one second`, 'wait a second and run the backup again');
}
