import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Check } from './types.ts';

/** Where the rules live: one `<id>.ts` per check, next to its `<id>.fixture.sql` and `<id>.test.ts`. */
export const RULES_DIR = fileURLToPath(new URL('./rules/', import.meta.url));

/** A rule file's name: kebab-case, not a test. Its base name is the check's id. */
export function isRuleFile(name: string): boolean {
  return /^[a-z0-9]+(-[a-z0-9]+)*\.ts$/.test(name);
}

export function isCheck(value: unknown): value is Check {
  const c = value as Partial<Check> | null;
  return typeof c === 'object' && c !== null && typeof c.id === 'string' && typeof c.title === 'string' && typeof c.run === 'function' && (c.severity === 'error' || c.severity === 'warning');
}

/**
 * Every check in `dir`, sorted by id: adding a rule is adding its file, with no list to edit.
 * A file that exports no check is a helper and is skipped; one whose check is named
 * differently from the file is refused, so `--only <file name>` always finds it.
 */
export async function loadChecks(dir = RULES_DIR): Promise<Check[]> {
  const checks: Check[] = [];
  for (const file of readdirSync(dir).filter(isRuleFile).sort()) {
    const id = file.slice(0, -'.ts'.length);
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as Record<string, unknown>;
    const found = Object.values(mod).filter(isCheck);
    for (const c of found) {
      if (c.id !== id) throw new Error(`${path.join(dir, file)} exports check "${c.id}"; a rule's file is named after its id (${c.id}.ts)`);
    }
    if (found.length > 1) throw new Error(`${path.join(dir, file)} exports ${found.length} checks; one rule per file`);
    if (found[0]) checks.push(found[0]);
  }
  return checks.sort((a, b) => a.id.localeCompare(b.id));
}
