import { UserError } from '../../core/errors.ts';
import type { CheckOutcome } from '../types.ts';
import type { Ignore } from '../../core/config/checks-config.ts';

export type { Ignore } from '../../core/config/checks-config.ts';


/** Refuses entries the suite could never honour: an unknown check, or no reason given. */
export function validateIgnores(ignores: readonly Ignore[], checkIds: readonly string[]): void {
  for (const i of ignores) {
    if (!checkIds.includes(i.check)) throw new UserError(`ignore names unknown check "${String(i.check).slice(0, 60)}"`, `use one of: ${checkIds.join(', ')}`);
    if (typeof i.object !== 'string' || i.object.trim() === '') throw new UserError(`ignore entry for ${i.check} names no object`, 'give the object exactly as the report names it');
    if (typeof i.reason !== 'string' || i.reason.trim() === '') throw new UserError(`ignore entry for ${i.check} ${i.object} gives no reason`, 'say why the finding is accepted, e.g. "reason": "ticket OPS-12"');
  }
}

/**
 * Pure: the check's outcome with the findings its ignore entries name moved to passed, each
 * with the reason, the way `-- destructive: <reason>` allows a statement. An entry that matches
 * no finding is stale and becomes a warning, so silencing never outlives what it silenced.
 */
export function applyIgnores(checkId: string, outcome: CheckOutcome, ignores: readonly Ignore[]): CheckOutcome {
  const mine = ignores.filter((i) => i.check === checkId);
  if (mine.length === 0) return outcome;
  const passed = [...outcome.passed];
  const used = new Set<Ignore>();
  let silenced = 0;
  const findings = outcome.findings.filter((f) => {
    const hit = mine.find((i) => i.object === f.object);
    if (!hit) return true;
    used.add(hit);
    silenced++;
    passed.push(`${f.object}: ignored (${hit.reason}): ${f.message}`);
    return false;
  });
  for (const i of mine.filter((x) => !used.has(x))) {
    findings.push({
      object: i.object,
      message: `ignore entry for ${checkId} ${i.object} matches no finding (${i.reason})`,
      fix: 'remove the entry from checks.ignore in the configuration file',
      severity: 'warning',
    });
  }
  return { passed, passedCount: (outcome.passedCount ?? outcome.passed.length) + silenced, findings };
}
