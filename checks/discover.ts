import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Check } from './types.ts';
import { checksFromModules, isRuleFile } from './rule-modules.ts';

/** Where the rules live: one `<id>.ts` per check, next to its `<id>.fixture.sql` and `<id>.test.ts`. */
export const RULES_DIR = fileURLToPath(new URL('./rules/', import.meta.url));

/** The rule files in `dir`, in a stable order. */
export function ruleFiles(dir = RULES_DIR): string[] {
  return readdirSync(dir).filter(isRuleFile).sort();
}

/** Every check in `dir`: adding a rule is adding its file, with no list to edit. */
export async function loadChecks(dir = RULES_DIR): Promise<Check[]> {
  const modules: Array<readonly [string, Record<string, unknown>]> = [];
  for (const file of ruleFiles(dir)) {
    modules.push([path.join(dir, file), (await import(pathToFileURL(path.join(dir, file)).href)) as Record<string, unknown>]);
  }
  return checksFromModules(modules);
}
