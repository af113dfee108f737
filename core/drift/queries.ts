/**
 * The catalog queries of a drift snapshot: one per object kind, each returning every object
 * of that kind at once, so the number of round trips never depends on the schema's size.
 * They run in one read-only transaction with `search_path = pg_catalog`, so every name the
 * server prints (types, defaults, index and view definitions) is schema-qualified the same
 * way on both sides, whatever search_path the database or its roles set.
 *
 * Rows of a table's columns, constraints, indexes, triggers and policies name it by OID
 * only to be joined to the RELATIONS row client-side; OIDs never reach the comparison.
 *
 * Roles come back by name. A privilege list comes back as PostgreSQL prints it (aclitem
 * text, `grantee=privileges/grantor`) and is taken apart client-side (acl.ts): exploding it
 * on the server costs more than the rest of the query on a large schema.
 */

/** Namespaces that are not PostgreSQL's own. */
const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`;

/**
 * Objects an extension created are the extension's: only the extension itself (name,
 * version) is compared. One hashed set per query, not one lookup per row.
 */
function notExtensionMember(catalog: string, oid: string): string {
  // Through pg_depend's reference index (members point at their extension): a few rows, not the whole catalog.
  return `${oid} NOT IN (SELECT x.objid FROM pg_depend x WHERE x.refclassid = 'pg_extension'::regclass AND x.classid = '${catalog}'::regclass AND x.deptype = 'e')`;
}

/** Relation `c` in namespace `n` that drift looks at. */
const RELATION_SCOPE = `${USER_SCHEMA} AND ${notExtensionMember('pg_class', 'c.oid')}`;

/**
 * A privilege list as text[]; NULL (never granted or revoked) read as the default it stands
 * for, so an ACL that was set and reset compares equal to one never touched.
 */
export function aclList(acl: string, type: string, owner: string): string {
  return type ? `coalesce(${acl}, acldefault('${type}', ${owner}))::text[]` : `coalesce(${acl}, '{}')::text[]`;
}

export const SERVER = `SELECT current_setting('server_version_num')::int AS num, current_user::text AS "user",
  (SELECT rolname::text FROM pg_roles WHERE oid = 10) AS bootstrap, current_database()::text AS database`;

export const DATABASE = `SELECT quote_ident(d.datname) AS qname, pg_get_userbyid(d.datdba)::text AS owner, d.datconnlimit AS connlimit,
  ${aclList('d.datacl', 'd', 'd.datdba')} AS acl,
  coalesce((SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setdatabase = d.oid AND s.setrole = 0), '{}') AS settings
FROM pg_database d WHERE d.datname = current_database()`;

export const SCHEMAS = `SELECT n.nspname::text AS name, quote_ident(n.nspname) AS qname, pg_get_userbyid(n.nspowner)::text AS owner, ${aclList('n.nspacl', 'n', 'n.nspowner')} AS acl
FROM pg_namespace n WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_namespace', 'n.oid')}`;

export const EXTENSIONS = `SELECT e.extname::text AS name, quote_ident(e.extname) AS qname, e.extversion AS version, quote_ident(n.nspname) AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`;

export const RELATIONS = `SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, format('%I.%I', n.nspname, c.relname) AS qname, c.relkind::text AS kind,
  pg_get_userbyid(c.relowner)::text AS owner, ${aclList('c.relacl', 'r', 'c.relowner')} AS acl,
  c.relpersistence::text AS persistence, c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,
  coalesce(c.reloptions, '{}') AS options, c.relreplident::text AS replica_identity, c.relispartition AS is_partition,
  CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
  CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
  array(SELECT format('%I.%I', pn.nspname, pc.relname) FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
         JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
  CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS definition
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${RELATION_SCOPE}`;

export const COLUMNS = `SELECT a.attrelid AS relid, quote_ident(a.attname) AS qname, a.attnum AS num,
  format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
  -- A default cannot refer to columns, so it is deparsed without its table: on a fresh
  -- session that saves a catalog lookup per table, most of this query's cost.
  CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, 0) END AS "default",
  CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generated,
  a.attidentity::text AS identity,
  CASE WHEN a.attcollation <> t.typcollation THEN
    (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = a.attcollation)
  END AS collation,
  ${aclList('a.attacl', '', 'c.relowner')} AS acl
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ${RELATION_SCOPE}
ORDER BY a.attrelid, a.attnum`;

export const CONSTRAINTS = `SELECT co.conrelid AS relid, co.conname::text AS name,
  quote_ident(co.conname) AS qname,
  co.contype::text AS type, pg_get_constraintdef(co.oid) AS definition
FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE co.contype IN ('p', 'u', 'f', 'c', 'x') AND ${RELATION_SCOPE}`;

/** Indexes that back a primary key, unique or exclusion constraint are compared as that constraint. */
const INDEX_SCOPE = `FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND ${RELATION_SCOPE}
  AND i.indexrelid NOT IN (SELECT co.conindid FROM pg_constraint co WHERE co.contype IN ('p', 'u', 'x'))`;

/**
 * An index's definition is put together client-side from these parts and INDEX_COLUMNS:
 * pg_get_indexdef of a whole index costs ten times what its column-level form and the
 * catalog columns cost together, and it would dominate a large schema's snapshot.
 */
export const INDEXES = `SELECT i.indrelid AS relid, i.indexrelid AS indexid,
  ic.relname::text AS name, format('%I.%I', n.nspname, ic.relname) AS qname, quote_ident(ic.relname) AS quoted_name,
  i.indisunique AS "unique", i.indnullsnotdistinct AS nulls_not_distinct, c.relkind = 'p' AS on_only,
  (SELECT am.amname::text FROM pg_am am WHERE am.oid = ic.relam) AS method, i.indnkeyatts AS key_columns,
  pg_get_expr(i.indpred, i.indrelid) AS predicate, coalesce(ic.reloptions, '{}') AS options, i.indisvalid AS valid
${INDEX_SCOPE}`;

/** One row per index column: its text (a column name or an expression), non-default opclass and collation, DESC/NULLS bits. */
export const INDEX_COLUMNS = `SELECT i.indexrelid AS indexid, k.ord::int AS ord,
  -- pg_get_indexdef only for expressions; a plain column is its name.
  CASE WHEN k.attnum = 0 THEN pg_get_indexdef(i.indexrelid, k.ord::int, false)
       ELSE (SELECT quote_ident(a.attname) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = k.attnum) END AS text,
  k.attnum = 0 AS expression,
  CASE WHEN o.oid IS NULL OR o.opcdefault THEN NULL WHEN opn.nspname = 'pg_catalog' THEN quote_ident(o.opcname) ELSE format('%I.%I', opn.nspname, o.opcname) END AS opclass,
  CASE WHEN co.oid IS NULL OR k.coll = 100 THEN NULL ELSE format('%I.%I', cn.nspname, co.collname) END AS collation,
  coalesce(k.opt, 0)::int AS option
${INDEX_SCOPE.replace('WHERE', `CROSS JOIN LATERAL unnest(i.indkey::int2[], i.indclass::oid[], i.indcollation::oid[], i.indoption::int2[]) WITH ORDINALITY k(attnum, opc, coll, opt, ord)
LEFT JOIN pg_opclass o ON o.oid = k.opc LEFT JOIN pg_namespace opn ON opn.oid = o.opcnamespace
LEFT JOIN pg_collation co ON co.oid = k.coll LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE`)}`;

/** `owned_kind` is `a` for a serial's sequence (owned by a column) and `i` for an identity column's. */
export const SEQUENCES = `SELECT n.nspname::text AS schema, format('%I.%I', n.nspname, c.relname) AS qname, pg_get_userbyid(c.relowner)::text AS owner,
  ${aclList('c.relacl', 's', 'c.relowner')} AS acl, c.relpersistence::text AS persistence,
  format_type(s.seqtypid, NULL) AS data_type, s.seqstart::text AS start, s.seqincrement::text AS increment,
  s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
  d.deptype::text AS owned_kind, CASE WHEN d.objid IS NOT NULL THEN format('%I.%I', tn.nspname, tc.relname) END AS owned_table,
  quote_ident(ta.attname) AS owned_column
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class tc ON tc.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
WHERE c.relkind = 'S' AND ${RELATION_SCOPE}`;

export const TRIGGERS = `SELECT t.tgrelid AS relid, quote_ident(t.tgname) AS qname, t.tgtype::int AS tgtype,
  t.tgenabled::text AS enabled, pg_get_triggerdef(t.oid) AS definition,
  CASE WHEN t.tgattr::text <> '' THEN array(SELECT quote_ident(a.attname) FROM unnest(t.tgattr) k JOIN pg_attribute a ON a.attrelid = t.tgrelid AND a.attnum = k ORDER BY 1) ELSE '{}' END AS columns
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND ${RELATION_SCOPE}`;

export const POLICIES = `SELECT p.polrelid AS relid, quote_ident(p.polname) AS qname, p.polcmd::text AS cmd,
  p.polpermissive AS permissive,
  array(SELECT CASE WHEN r = 0 THEN '=' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r ORDER BY 1) AS roles,
  pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ${RELATION_SCOPE}`;

/**
 * The body is compared by hash: a replaced function shows as "body changed" without printing
 * source. SQL-standard bodies (BEGIN ATOMIC) are stored as parse trees full of OIDs, so their
 * deparsed text is hashed instead. The full definition is kept for the fix texts only.
 */
export const FUNCTIONS = `SELECT n.nspname::text AS schema, format('%I.%I', n.nspname, p.proname) AS qname, pg_get_function_identity_arguments(p.oid) AS identity_args,
  p.prokind::text AS kind, pg_get_function_arguments(p.oid) AS arguments, pg_get_function_result(p.oid) AS result,
  l.lanname::text AS language, p.provolatile::text AS volatility, p.proisstrict AS strict, p.prosecdef AS security_definer,
  p.proleakproof AS leakproof, p.proparallel::text AS parallel, p.procost::text AS cost, p.prorows::text AS rows,
  coalesce(p.proconfig, '{}') AS config,
  md5(CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE coalesce(p.prosrc, '') || coalesce(E'\\n' || p.probin, '') END) AS body_hash,
  pg_get_userbyid(p.proowner)::text AS owner, ${aclList('p.proacl', 'f', 'p.proowner')} AS acl,
  CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END AS definition
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
WHERE ${USER_SCHEMA} AND ${notExtensionMember('pg_proc', 'p.oid')}
  -- A range type's constructors belong to the type (an internal dependency): compared through it, and never dumped on their own.
  AND p.oid NOT IN (SELECT x.objid FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.deptype = 'i')`;

export const TYPES = `SELECT n.nspname::text AS schema, format('%I.%I', n.nspname, t.typname) AS qname, t.typtype::text AS kind,
  pg_get_userbyid(t.typowner)::text AS owner, ${aclList('t.typacl', 'T', 't.typowner')} AS acl,
  CASE t.typtype
    WHEN 'e' THEN (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
    WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod)
      || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END || coalesce(' DEFAULT ' || t.typdefault, '')
      || coalesce((SELECT ' ' || string_agg(format('CONSTRAINT %I %s', co.conname, pg_get_constraintdef(co.oid)), ' ' ORDER BY co.conname)
                   FROM pg_constraint co WHERE co.contypid = t.oid), '')
    WHEN 'c' THEN (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                   FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
    WHEN 'r' THEN (SELECT 'SUBTYPE = ' || format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid)
  END AS definition
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typtype IN ('e', 'd', 'c', 'r') AND (t.typtype <> 'c' OR c.relkind = 'c')
  AND ${USER_SCHEMA} AND ${notExtensionMember('pg_type', 't.oid')}`;

export const DEFAULT_PRIVILEGES = `SELECT pg_get_userbyid(d.defaclrole)::text AS role, quote_ident(n.nspname) AS schema, d.defaclobjtype::text AS objtype,
  ${aclList('d.defaclacl', '', 'd.defaclrole')} AS acl
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace`;

/** $1: the five roles' names. Options are read as JSON, so the query is the same before and after PostgreSQL 16 added inherit/set options. */
export const MEMBERSHIPS = `SELECT r.rolname::text AS role, m.rolname::text AS member,
  (to_jsonb(am) - 'oid' - 'roleid' - 'member' - 'grantor') AS options
FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
WHERE r.rolname = ANY($1::text[]) OR m.rolname = ANY($1::text[])`;

/** $1: the five roles' names; settings for every database and for this one. */
export const ROLE_SETTINGS = `SELECT r.rolname::text AS role, s.setdatabase = 0 AS all_databases, s.setconfig AS config
FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole
WHERE r.rolname = ANY($1::text[])
  AND (s.setdatabase = 0 OR s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()))`;

export const EVENT_TRIGGERS = `SELECT quote_ident(e.evtname) AS qname, e.evtevent::text AS event, e.evtfoid::regprocedure::text AS function,
  e.evtenabled::text AS enabled, coalesce(e.evttags, '{}') AS tags, pg_get_userbyid(e.evtowner)::text AS owner
FROM pg_event_trigger e WHERE ${notExtensionMember('pg_event_trigger', 'e.oid')}`;

/** Every per-kind query, by the name the normalizer knows it under. */
export const SNAPSHOT_QUERIES = {
  database: DATABASE,
  schemas: SCHEMAS,
  extensions: EXTENSIONS,
  types: TYPES,
  relations: RELATIONS,
  columns: COLUMNS,
  constraints: CONSTRAINTS,
  indexes: INDEXES,
  indexColumns: INDEX_COLUMNS,
  sequences: SEQUENCES,
  triggers: TRIGGERS,
  policies: POLICIES,
  functions: FUNCTIONS,
  defaultPrivileges: DEFAULT_PRIVILEGES,
  memberships: MEMBERSHIPS,
  roleSettings: ROLE_SETTINGS,
  eventTriggers: EVENT_TRIGGERS,
} as const;
export type SnapshotQuery = keyof typeof SNAPSHOT_QUERIES;
/** The queries that take the five roles' names as $1. */
export const ROLE_QUERIES: readonly SnapshotQuery[] = ['memberships', 'roleSettings'];
