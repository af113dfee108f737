import type { Check, Finding } from '../types.ts';
import { migrationState } from '../lib/migration-state.ts';
import { runSquawk } from '../lib/squawk.ts';

export const migrationLint: Check = {
  id: 'migration-lint',
  title: 'Pending migrations pass squawk',
  rationale: 'A migration that takes a long lock, rewrites a big table or fails on existing rows takes production down when it runs, not when it is reviewed.',
  severity: 'error',
  async run(ctx) {
    const { pending } = await migrationState(ctx);
    const { rules, pgVersion } = ctx.expectations.squawk;
    if (pending.length === 0) return { passed: ['no pending migrations to lint'], findings: [] };
    const inTx = pending.filter((m) => !m.noTransaction).map((m) => m.file);
    const outsideTx = pending.filter((m) => m.noTransaction).map((m) => m.file);
    const violations = [
      ...(await runSquawk(ctx.migrationsDir, inTx, { rules, pgVersion, assumeInTransaction: true })),
      ...(await runSquawk(ctx.migrationsDir, outsideTx, { rules, pgVersion, assumeInTransaction: false })),
    ].sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
    const findings: Finding[] = violations.map((v) => ({
      object: `${v.file}:${v.line}`,
      message: `${v.rule}: ${v.message}`,
      fix: `${v.help ? `${v.help.replace(/\.?$/, '.')} ` : ''}See https://squawkhq.com/docs/${v.rule}; if it is safe here, put \`-- squawk-ignore ${v.rule}\` above the statement.`,
    }));
    const flagged = new Set(violations.map((v) => v.file));
    const passed = pending.filter((m) => !flagged.has(m.file)).map((m) => `${m.file}: clean under ${rules.length} squawk rules`);
    return { passed, findings };
  },
};
