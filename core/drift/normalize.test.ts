import { describe, expect, it } from 'vitest';
import { roleNames } from '../config/role-names.ts';
import { decodeTriggerType, indexSignature, looksGenerated, normalizeSnapshot, parseTriggerDefinition, privileges, quoteIdent, settings, type SnapshotRows } from './normalize.ts';
import { describeRole, roleMap } from './roles.ts';
import { parseAclItem } from './acl.ts';

const live = roleMap({ roles: roleNames('app'), admins: ['postgres'] });
const scratch = roleMap({ roles: roleNames('pgsteward_drift_1a2b3c4d'), admins: ['postgres'], aliases: [roleNames('app')] });

describe('role symbols', () => {
  it('maps each side\'s five roles to the same symbols, and back to that side\'s names', () => {
    expect(live.toSymbol('app_app')).toBe('@app');
    expect(scratch.toSymbol('pgsteward_drift_1a2b3c4d_app')).toBe('@app');
    expect(live.toName('@readonly')).toBe('app_readonly');
    expect(scratch.toName('@readonly')).toBe('pgsteward_drift_1a2b3c4d_readonly');
  });
  it('maps the live names seen from the reference too (a migration that grants to app_readonly by name)', () => {
    expect(scratch.toSymbol('app_readonly')).toBe('@readonly');
  });
  it('maps the administrator, and leaves every other role as it is', () => {
    expect(live.toSymbol('postgres')).toBe('@admin');
    expect(live.toSymbol('rds_superuser')).toBe('rds_superuser');
    expect(live.toSymbol('other_app')).toBe('other_app');
  });
  it('describes a symbol the live side lacks in words', () => {
    expect(describeRole('@app', live.names)).toBe('app_app');
    expect(describeRole('@app')).toBe('the app role');
  });
});

describe('privilege lists', () => {
  it('marks PUBLIC and the owner, drops grantors, merges duplicates and uses symbols for the roles', () => {
    expect(privileges(['=X/app_owner', 'app_owner=X/app_owner', 'app_app=rw*/app_owner', 'app_app=r/postgres', '"some one"=r/app_owner'], 'app_owner', live)).toEqual([
      '@app SELECT',
      '@app UPDATE*',
      'OWNER EXECUTE',
      'PUBLIC EXECUTE',
      'some one SELECT',
    ]);
  });
  it('gives two databases with different role names the same list', () => {
    expect(privileges(['pgsteward_drift_1a2b3c4d_app=r/x'], 'x', scratch)).toEqual(privileges(['app_app=r/y'], 'y', live));
  });
  it('reads every privilege letter, and refuses one it does not know', () => {
    expect(parseAclItem('=arwdDxtm/o').privileges.map((p) => p.privilege)).toEqual(['INSERT', 'SELECT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'MAINTAIN']);
    expect(parseAclItem('"a""b"=U*C/"o w"')).toEqual({ grantee: 'a"b', privileges: [{ privilege: 'USAGE', grantable: true }, { privilege: 'CREATE', grantable: false }], grantor: 'o w' });
    expect(() => parseAclItem('x=Q/o')).toThrow(/unknown privilege/);
  });
  it('turns role-valued settings into symbols', () => {
    expect(settings(['role=app_owner', 'statement_timeout=5s'], live)).toEqual(['role=@owner', 'statement_timeout=5s']);
  });
});

describe('names PostgreSQL generates', () => {
  it('recognizes constraint and index names in the shape PostgreSQL gives them', () => {
    expect(looksGenerated('users_pkey', 'users', 'p')).toBe(true);
    expect(looksGenerated('users_email_key', 'users', 'u')).toBe(true);
    expect(looksGenerated('users_email_key1', 'users', 'u')).toBe(true);
    expect(looksGenerated('user_roles_role_id_fkey', 'user_roles', 'f')).toBe(true);
    expect(looksGenerated('users_email_check', 'users', 'c')).toBe(true);
    expect(looksGenerated('tickets_opened_excl', 'tickets', 'x')).toBe(true);
    expect(looksGenerated('tickets_lower_idx2', 'tickets', 'index')).toBe(true);
  });
  it('does not take a chosen name, or a label of the wrong kind, for a generated one', () => {
    expect(looksGenerated('one_account_per_email', 'users', 'u')).toBe(false);
    expect(looksGenerated('users_email_key', 'users', 'index')).toBe(false);
    expect(looksGenerated('orders_email_key', 'users', 'u')).toBe(false);
    expect(looksGenerated('users_pkey', 'users', 'n/a')).toBe(false);
  });
  it('accepts the table part truncated to fit 63 bytes', () => {
    const table = 'a_table_with_a_really_quite_long_name_that_goes_on_and_on_x';
    expect(looksGenerated('a_table_with_a_really_quite_long_name_th_some_long_column_key', table, 'u')).toBe(true);
  });
});

describe('triggers', () => {
  it('decodes tgtype into timing, events and level', () => {
    expect(decodeTriggerType(2 | 16 | 1)).toEqual({ timing: 'BEFORE', events: 'UPDATE', level: 'ROW' });
    expect(decodeTriggerType(4 | 8 | 32)).toEqual({ timing: 'AFTER', events: 'INSERT OR DELETE OR TRUNCATE', level: 'STATEMENT' });
    expect(decodeTriggerType(64 | 4 | 1)).toEqual({ timing: 'INSTEAD OF', events: 'INSERT', level: 'ROW' });
    expect(decodeTriggerType(2 | 16 | 1, ['title', 'state'])).toEqual({ timing: 'BEFORE', events: 'UPDATE OF state, title', level: 'ROW' });
  });
  it('takes the function call and WHEN condition from the definition, and drops the name', () => {
    const def = 'CREATE TRIGGER "Touch" BEFORE UPDATE ON public.t FOR EACH ROW WHEN ((old.title IS DISTINCT FROM new.title)) EXECUTE FUNCTION public.touch(\'a\')';
    expect(parseTriggerDefinition(def, '"Touch"')).toEqual({
      function: "public.touch('a')",
      condition: '(old.title IS DISTINCT FROM new.title)',
      definition: 'CREATE TRIGGER BEFORE UPDATE ON public.t FOR EACH ROW WHEN ((old.title IS DISTINCT FROM new.title)) EXECUTE FUNCTION public.touch(\'a\')',
    });
    expect(parseTriggerDefinition('CREATE TRIGGER x AFTER INSERT ON public.t FOR EACH STATEMENT EXECUTE FUNCTION public.f()', 'x').condition).toBeNull();
  });
});

const EMPTY: SnapshotRows = {
  database: [], schemas: [], extensions: [], types: [], relations: [], columns: [], constraints: [], indexes: [], sequences: [],
  indexColumns: [], triggers: [], policies: [], functions: [], defaultPrivileges: [], memberships: [], roleSettings: [], eventTriggers: [],
};

describe('normalizeSnapshot', () => {
  it('keys an identity column\'s sequence by its column, a serial\'s by its name, both under their table', () => {
    const seq = { schema: 'public', qname: 'public.t_id_seq', owner: 'app_owner', acl: [], persistence: 'p', data_type: 'bigint', start: '1', increment: '1', min: '1', max: '9', cache: '1', cycle: false, owned_table: 'public.t', owned_column: 'id' };
    const objects = normalizeSnapshot({ ...EMPTY, sequences: [{ ...seq, owned_kind: 'i' }, { ...seq, qname: 'public.t_n_seq', owned_kind: 'a', owned_column: 'n' }] }, live);
    expect([...objects.keys()].sort()).toEqual(['sequence:identity:public.t.id', 'sequence:public.t_n_seq']);
    expect([...objects.values()].map((o) => o.parent)).toEqual(['relation:public.t', 'relation:public.t']);
    expect(objects.get('sequence:public.t_n_seq')!.fields['owned by']).toBe('public.t.n');
  });
  it('leaves out the administrator\'s memberships (setup gives the RDS master the owner role) and merges several grantors', () => {
    const objects = normalizeSnapshot(
      {
        ...EMPTY,
        memberships: [
          { role: 'app_owner', member: 'postgres', options: { admin_option: true } },
          { role: 'app_owner', member: 'app_migrator', options: { admin_option: false, inherit_option: true } },
          { role: 'app_owner', member: 'app_migrator', options: { set_option: true } },
        ],
      },
      live,
    );
    expect([...objects.keys()]).toEqual(['membership:@owner:@migrator']);
    expect(objects.get('membership:@owner:@migrator')!.fields.options).toEqual(['inherit', 'set']);
  });
  it('records a column\'s table order on the table, and nothing about attnum gaps', () => {
    const col = (qname: string, num: number) => ({ relid: 16384, qname, num, type: 'text', not_null: false, default: null, generated: null, identity: '', collation: null, acl: [] });
    const objects = normalizeSnapshot(
      { ...EMPTY, columns: [col('a', 1), col('c', 5)], relations: [{ oid: 16384, schema: 'public', name: 't', qname: 'public.t', kind: 'r', owner: 'app_owner', acl: [], persistence: 'p', rls: false, force_rls: false, options: [], replica_identity: 'd', is_partition: false, parents: [] }] },
      live,
    );
    expect(objects.get('relation:public.t')!.fields['column order']).toEqual(['a', 'c']);
    expect(JSON.stringify(objects.get('column:public.t.c'))).not.toMatch(/5|16384/);
  });
  it('quotes names that need it', () => {
    expect(quoteIdent('users')).toBe('users');
    expect(quoteIdent('Mixed Case')).toBe('"Mixed Case"');
    expect(quoteIdent('a"b')).toBe('"a""b"');
  });
});

describe('indexSignature', () => {
  const col = (ord: number, text: string, extra: Record<string, unknown> = {}) => ({ ord, text, expression: false, opclass: null, collation: null, option: 0, ...extra });
  it('puts an index together the way CREATE INDEX writes it, without its name', () => {
    const index = { unique: true, nulls_not_distinct: true, on_only: false, method: 'btree', key_columns: 2, predicate: "(state <> 'closed'::text)", options: ['fillfactor=70'] };
    const columns = [col(3, 'title'), col(2, 'lower(title)', { expression: true, opclass: 'text_pattern_ops', collation: 'pg_catalog."C"', option: 3 }), col(1, 'state', { option: 1 })];
    expect(indexSignature('public.tickets', index, columns)).toBe(
      "CREATE UNIQUE INDEX ON public.tickets USING btree (state DESC NULLS LAST, (lower(title)) COLLATE pg_catalog.\"C\" text_pattern_ops DESC) INCLUDE (title) NULLS NOT DISTINCT WITH (fillfactor=70) WHERE (state <> 'closed'::text)",
    );
  });
  it('writes ONLY for a partitioned table\'s index and NULLS FIRST when it is not the default', () => {
    const index = { unique: false, nulls_not_distinct: false, on_only: true, method: 'btree', key_columns: 1, predicate: null, options: [] };
    expect(indexSignature('public.events', index, [col(1, 'at', { option: 2 })])).toBe('CREATE INDEX ON ONLY public.events USING btree (at NULLS FIRST)');
  });
});
