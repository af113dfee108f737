import { describe, expect, it } from 'vitest';
import { parseMigrationFolder, parseMigrations } from './files.ts';
import { plan, planProblems, type AppliedRow } from './plan.ts';

const files = (...names: string[]) => parseMigrations(names.map((name) => ({ name, bytes: Buffer.from(`-- ${name}\nselect 1;`) })));
const row = (m: { version: bigint; checksum: Buffer; description: string }, extra: Partial<AppliedRow> = {}): AppliedRow => ({ version: m.version, checksum: m.checksum, success: true, description: m.description, ...extra });

describe('plan: the ledger against the local files', () => {
  it('splits applied from pending, in version order', () => {
    const local = files('1_a.sql', '2_b.sql', '3_c.sql');
    const p = plan(local, [row(local[0]!)]);
    expect(p.applied.map((x) => x.version)).toEqual([1n]);
    expect(p.pending.map((x) => x.version)).toEqual([2n, 3n]);
    expect(p.missing).toEqual([]);
  });

  it('refuses an applied version with no local file, naming --ignore-missing in the fix', () => {
    const local = files('1_a.sql', '3_c.sql');
    const gone = { version: 2n, checksum: Buffer.alloc(48), description: 'b' };
    expect(() => plan(local, [row(local[0]!), row(gone)])).toThrow(/^refusing to migrate: migration 2 \(b\) is applied but has no file in the migrations folder$/);
    const [problem] = planProblems(local, [row(local[0]!), row(gone)]);
    expect(problem).toMatchObject({ kind: 'missing', version: 2n });
    expect(problem!.fix).toMatch(/restore the file from version control.*or pass --ignore-missing/);
  });

  it('with ignoreMissing, as sqlx set_ignore_missing(true): applies the rest and reports what it ignored', () => {
    const local = files('1_a.sql', '3_c.sql');
    const gone = row({ version: 2n, checksum: Buffer.alloc(48), description: 'b' });
    expect(planProblems(local, [row(local[0]!), gone], { ignoreMissing: true })).toEqual([]);
    const p = plan(local, [row(local[0]!), gone], { ignoreMissing: true });
    expect(p.pending.map((x) => x.version)).toEqual([3n]);
    expect(p.missing.map((r) => r.version)).toEqual([2n]);
  });

  it('ignoreMissing never hides drift or a dirty row', () => {
    const local = files('1_a.sql', '2_b.sql');
    const drifted = row(local[0]!, { checksum: Buffer.alloc(48) });
    const dirty = row(local[1]!, { success: false });
    expect(planProblems(local, [drifted, dirty], { ignoreMissing: true }).map((p) => p.kind)).toEqual(['drift', 'dirty']);
  });

  it('counts a version whose only local file is a .down.sql as present, as sqlx does', () => {
    const folder = parseMigrationFolder([
      { name: '1_a.up.sql', isFile: true, read: () => Buffer.from('select 1;') },
      { name: '2_b.down.sql', isFile: true, read: () => Buffer.from('select 2;') },
    ]);
    const applied = [row(folder.migrations[0]!), row({ version: 2n, checksum: Buffer.alloc(48), description: 'b' })];
    expect(planProblems(folder, applied)).toEqual([]);
    expect(planProblems(folder.migrations, applied).map((p) => p.kind)).toEqual(['missing']);
  });
});
