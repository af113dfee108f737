import { UserError } from '../../core/errors.ts';
import type { Check } from '../types.ts';
import { readOwnership, setupAdvice } from '../lib/adoption.ts';
import { actorsOf, catalogFindings, probeFindings } from './privileges.findings.ts';
import { probeRoles, readCatalogRows } from './privileges.probe.ts';

export const privileges: Check = {
  id: 'privileges',
  title: 'Least-privilege roles',
  rationale: 'A compromised application must not be able to drop, alter or read around the schema; the read-only roles must not write.',
  severity: 'error',
  policy: 'roles',
  async run(ctx) {
    const names = ctx.roles;
    if (!names) {
      throw new UserError(`cannot derive role names from database name "${ctx.database.slice(0, 64)}"`, 'pass --roles-of NAME with the database whose roles apply');
    }
    const rows = await readCatalogRows(ctx, names);
    // Only a missing role needs to know whose database this is.
    const setupFix = rows.roles.some((r) => !r.exists)
      ? setupAdvice(await readOwnership(ctx), ctx.database, ctx.migrationsDir, 'its roles are made by setup-db, which also grants them on every table')
      : undefined;
    const catalog = catalogFindings(rows, { database: ctx.database, names, pool: ctx.expectations.pool, ...(setupFix ? { setupFix } : {}) });
    const actors = actorsOf(rows.roles);
    if (!actors.app && actors.readers.length === 0) return catalog;
    const probed = probeFindings(await ctx.probe((tx) => probeRoles(tx, ctx.expectations, actors, names.owner)));
    // The write probes need a row to write; without one the table grants stand on the catalog alone.
    const skipped = Object.keys(ctx.expectations.probeRows).length === 0 ? ['the roles\' write and read probe skipped, no table has a row in checks.probeRows (table grants checked by catalog alone)'] : [];
    return { passed: [...catalog.passed, ...probed.passed, ...skipped], findings: [...catalog.findings, ...probed.findings] };
  },
};
