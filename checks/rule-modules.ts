import path from 'node:path';
import type { Check } from './types.ts';

/** A rule file's name: kebab-case, not a test. Its base name is the check's id. */
export function isRuleFile(name: string): boolean {
  return /^[a-z0-9]+(-[a-z0-9]+)*\.ts$/.test(name);
}

export function isCheck(value: unknown): value is Check {
  const c = value as Partial<Check> | null;
  return typeof c === 'object' && c !== null && typeof c.id === 'string' && typeof c.title === 'string' && typeof c.run === 'function' && (c.severity === 'error' || c.severity === 'warning');
}

/**
 * The checks a set of rule modules export, sorted by id. A module that exports no check is a
 * helper and is skipped; one whose check is named differently from its file is refused, so
 * `--only <file name>` always finds it. Pure: both the folder scan and bundles call it.
 */
export function checksFromModules(modules: ReadonlyArray<readonly [file: string, mod: Record<string, unknown>]>): Check[] {
  const checks: Check[] = [];
  for (const [file, mod] of modules) {
    const id = path.basename(file).slice(0, -'.ts'.length);
    const found = Object.values(mod).filter(isCheck);
    for (const c of found) {
      if (c.id !== id) throw new Error(`${file} exports check "${c.id}"; a rule's file is named after its id (${c.id}.ts)`);
    }
    if (found.length > 1) throw new Error(`${file} exports ${found.length} checks; one rule per file`);
    if (found[0]) checks.push(found[0]);
  }
  return checks.sort((a, b) => a.id.localeCompare(b.id));
}
