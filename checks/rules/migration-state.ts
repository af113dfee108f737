import type { Check, Finding } from '../types.ts';
import { migrationState } from '../lib/migration-state.ts';
import { readOwnership, setupAdvice } from '../lib/adoption.ts';

export const migrationStateCheck: Check = {
  id: 'migration-state',
  title: 'Migrations are applied exactly as written',
  rationale: 'The database must be what migrations/ describes: nothing pending, nothing edited after it ran, nothing half-applied, nothing unknown.',
  severity: 'error',
  policy: 'ledger',
  async run(ctx) {
    const state = await migrationState(ctx);
    const findings: Finding[] = state.problems.map((p) => ({
      object: p.file ?? `version ${p.version}`,
      message: `${p.kind}: ${p.message}`,
      fix: p.fix,
    }));
    const setupFix = state.pending.length
      ? setupAdvice(await readOwnership(ctx), ctx.database, ctx.migrationsDir, 'apply its migrations with the tool that applies them today, or take it over as the guide shows')
      : '';
    for (const m of state.pending) {
      findings.push({
        object: m.file,
        message: `pending: migration ${m.version} (${m.file}) has not been applied`,
        fix: setupFix,
      });
    }
    const bad = new Set(state.problems.map((p) => p.version));
    const files = new Map(state.local.map((m) => [m.version, m.file]));
    const passed = [
      ...state.notes,
      ...state.applied
        .filter((r) => !bad.has(r.version))
        .map((r) => (files.has(r.version) ? `${files.get(r.version)}: applied, checksum matches` : `version ${r.version}: applied, no file, passed over (--ignore-missing)`)),
    ];
    return { passed, findings };
  },
};
