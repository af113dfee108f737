import { ident, type Sql } from './db/connect.ts';
import type { RoleNames } from './config/role-names.ts';

export interface SmokeResult {
  name: string;
  ok: boolean;
  detail: string;
}

class Rollback extends Error {}

/**
 * Proves the migrated database works, inside one transaction that is always rolled back:
 * nothing it inserts survives.
 */
export async function smokeTest(sql: Sql, roles: RoleNames): Promise<SmokeResult[]> {
  const results: SmokeResult[] = [];
  const check = (name: string, ok: boolean, detail: string) => results.push({ name, ok, detail });
  await sql
    .begin(async (tx) => {
      await tx.unsafe(`SET LOCAL ROLE ${ident(roles.app)}`);
      const [u] = await tx<{ id: string; version: number; updated_at: Date }[]>`
        insert into users (email, slug, created_at, updated_at)
        values ('smoke@example.test', 'smoke-test', now() - interval '1 day', now() - interval '1 day')
        returning id::text, get_byte(uuid_send(id), 6) >> 4 as version, updated_at`;
      check('uuidv7 id', u!.version === 7, `inserted user got id ${u!.id} (version ${u!.version})`);

      const [after] = await tx<{ updated_at: Date }[]>`update users set status = 'suspended' where id = ${u!.id}::uuid returning updated_at`;
      check('updated_at trigger', after!.updated_at.getTime() > u!.updated_at.getTime(), `update moved updated_at forward by ${Math.round((after!.updated_at.getTime() - u!.updated_at.getTime()) / 1000)} s`);

      await tx`savepoint drop_probe`;
      let dropError = '';
      try {
        await tx.unsafe('drop table users');
      } catch (e) {
        dropError = (e as { code?: string }).code ?? 'error';
      }
      await tx`rollback to savepoint drop_probe`;
      check('app cannot drop', dropError === '42501', dropError === '42501' ? `${roles.app} is refused DROP TABLE (42501)` : `DROP TABLE as ${roles.app} ${dropError ? `failed with ${dropError}` : 'succeeded'}`);

      await tx`insert into phrases (created_by, text) values
        (${u!.id}::uuid, 'The quick brown fox jumps over the lazy dog'),
        (${u!.id}::uuid, 'Sphinx of black quartz, judge my vow')`;
      const fts = await tx`select text from phrases where search @@ websearch_to_tsquery('english', 'jumping foxes')`;
      check('full-text search', fts.length === 1, `"jumping foxes" found ${fts.length} phrase(s)`);
      const trgm = await tx`select text from phrases where 'quartz judje' <% text order by word_similarity('quartz judje', text) desc`;
      check('trigram search', trgm.length >= 1 && String(trgm[0]!.text).startsWith('Sphinx'), `misspelled "quartz judje" found ${trgm.length} phrase(s)`);
      throw new Rollback();
    })
    .catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return results;
}
