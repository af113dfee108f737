import { ROLE_KINDS, type RoleKind, type RoleNames } from '../config/role-names.ts';

/**
 * Roles are compared by what they are, not by what they are called: the reference built in
 * a scratch database has `pgsteward_drift_1a2b_app` where the live database has `app_app`,
 * and both are `@app`. The administrator who ran setup (superuser or RDS master) is `@admin`
 * on both sides, whatever its name. Every other role keeps its name, and PUBLIC is `PUBLIC`.
 */

export type RoleSymbol = `@${RoleKind}` | '@admin';
export const ADMIN_SYMBOL = '@admin';

export function symbolOf(kind: RoleKind): RoleSymbol {
  return `@${kind}`;
}

export interface RoleMap {
  /** Role name → symbol; names the map does not know are returned as they are. */
  toSymbol(name: string): string;
  /** Symbol → this side's role name (for display and for SQL in fix texts). */
  toName(symbol: string): string;
  /** Every symbol this side knows, with its name. */
  names: Map<string, string>;
}

export interface RoleMapInput {
  /** The five roles of the database this side is. */
  roles: RoleNames;
  /** Names of the administrator on this side: the connected user and the bootstrap superuser. */
  admins: readonly string[];
  /**
   * Other names that mean the same kinds here, e.g. the live database's roles seen from the
   * reference (a migration that grants to `app_readonly` by name grants to the live role
   * even when it runs in the scratch database).
   */
  aliases?: readonly RoleNames[];
}

/** Pure. */
export function roleMap(input: RoleMapInput): RoleMap {
  const bySymbol = new Map<string, string>();
  const byName = new Map<string, string>();
  for (const alias of input.aliases ?? []) for (const kind of ROLE_KINDS) byName.set(alias[kind], symbolOf(kind));
  for (const admin of input.admins) byName.set(admin, ADMIN_SYMBOL);
  // The database's own roles win over aliases and administrators of the same name.
  for (const kind of ROLE_KINDS) {
    byName.set(input.roles[kind], symbolOf(kind));
    bySymbol.set(symbolOf(kind), input.roles[kind]);
  }
  if (input.admins[0] !== undefined) bySymbol.set(ADMIN_SYMBOL, input.admins[0]);
  return {
    toSymbol: (name) => byName.get(name) ?? name,
    toName: (symbol) => bySymbol.get(symbol) ?? symbol,
    names: bySymbol,
  };
}

/** Human form of a symbol: `app_app` with the live map, the kind in words without one. */
export function describeRole(symbol: string, names?: Map<string, string>): string {
  const name = names?.get(symbol);
  if (name) return name;
  if (symbol === ADMIN_SYMBOL) return 'the administrator';
  if (symbol.startsWith('@')) return `the ${symbol.slice(1)} role`;
  return symbol;
}
