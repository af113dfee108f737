import { UserError } from '../errors.ts';
import { isLoopback, parseDatabaseUrl, type ConnectionSettings } from '../db/url.ts';

/**
 * Which kind of target a command acts on, and which server it reaches: decided here, once,
 * for every command, from one table of rules. Pure: reads nothing but its arguments.
 */

export const TARGET_KINDS = ['local', 'dev', 'prod'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export type UrlSource = '--url' | 'DATABASE_URL';

interface KindRule {
  /** The URL sources this kind connects through (the first one given wins). */
  reads: readonly UrlSource[];
  /** Whether every URL in sight must stay on this machine (loopback or a Unix socket). */
  loopbackOnly: boolean;
  /** What it reaches when none of `reads` is given. */
  withoutUrl: 'embedded cluster' | 'dev port forward' | 'refuse';
}

/**
 * The table. `local` and `dev` are disposable, so they may only ever reach this machine:
 * a URL pointing anywhere else is refused before any connection, whichever source it comes
 * from. `local` connects through `--url` only: DATABASE_URL is usually the application's own
 * (sqlx reads it), and the local target is the embedded cluster this tool runs.
 */
export const KIND_RULES: Record<TargetKind, KindRule> = {
  local: { reads: ['--url'], loopbackOnly: true, withoutUrl: 'embedded cluster' },
  dev: { reads: ['--url', 'DATABASE_URL'], loopbackOnly: true, withoutUrl: 'dev port forward' },
  prod: { reads: ['--url', 'DATABASE_URL'], loopbackOnly: false, withoutUrl: 'refuse' },
};

/** Without --target or DB_TARGET: a `--url` on loopback means dev, anywhere else prod; no `--url` means local. */
export function implicitKind(flagUrl: ConnectionSettings | undefined): TargetKind {
  if (!flagUrl) return 'local';
  return isLoopback(flagUrl.host) ? 'dev' : 'prod';
}

export interface KindInputs {
  /** `--target` */
  flagTarget?: string | undefined;
  /** `DB_TARGET` */
  envTarget?: string | undefined;
  /** `--url`, unparsed */
  flagUrl?: string | undefined;
  /** `DATABASE_URL`, unparsed */
  envUrl?: string | undefined;
  /**
   * `DEV_DB_HOST`: the one non-loopback host dev may reach, named explicitly, for commands that
   * run inside the dev stack's private Docker network (its bootstrap container reaches the
   * database container by name). Never guessed: a host is disposable only when someone says so.
   */
  devHost?: string | undefined;
}

export interface KindDecision {
  kind: TargetKind;
  /** Where the kind came from, for messages. */
  kindFrom: '--target' | 'DB_TARGET' | '--url host' | 'default';
  /** The URL the target connects through; undefined means the embedded cluster or the dev port forward. */
  url: { source: UrlSource; settings: ConnectionSettings } | undefined;
}

function parseKind(raw: string, source: string): TargetKind {
  if (!(TARGET_KINDS as readonly string[]).includes(raw)) {
    throw new UserError(`unknown target "${raw.slice(0, 30)}" in ${source}`, `use --target ${TARGET_KINDS.join('|')}`);
  }
  return raw as TargetKind;
}

/** The one decision. Throws a UserError (exit 2) for every combination the table refuses. */
export function decideTarget(i: KindInputs): KindDecision {
  const flagUrl = i.flagUrl ? parseDatabaseUrl(i.flagUrl, '--url') : undefined;
  const flagTarget = i.flagTarget || undefined;
  const envTarget = i.envTarget || undefined;
  const kind = flagTarget ? parseKind(flagTarget, '--target') : envTarget ? parseKind(envTarget, 'DB_TARGET') : implicitKind(flagUrl);
  const kindFrom = flagTarget ? '--target' : envTarget ? 'DB_TARGET' : flagUrl ? '--url host' : 'default';
  const rule = KIND_RULES[kind];

  // The URL in sight: --url replaces DATABASE_URL. A kind that does not read DATABASE_URL
  // still looks at it, because a remote one there means the user meant another target.
  let inSight: { source: UrlSource; settings: ConnectionSettings } | undefined;
  if (flagUrl) inSight = { source: '--url', settings: flagUrl };
  else if (i.envUrl) {
    const reads = rule.reads.includes('DATABASE_URL');
    const settings = reads ? parseDatabaseUrl(i.envUrl, 'DATABASE_URL') : tryParse(i.envUrl);
    if (settings) inSight = { source: 'DATABASE_URL', settings };
  }

  const declaredDev = kind === 'dev' && Boolean(i.devHost) && inSight?.settings.host === i.devHost;
  if (inSight && rule.loopbackOnly && !isLoopback(inSight.settings.host) && !declaredDev) {
    const how = kindFrom === 'default' ? 'the local target (the default)' : `the ${kind} target (from ${kindFrom})`;
    const fix =
      inSight.source === 'DATABASE_URL' && kind === 'local'
        ? `unset DATABASE_URL, or pass --target prod to act on ${inSight.settings.host}`
        : `pass --target prod to act on ${inSight.settings.host}, or point ${inSight.source} at 127.0.0.1, localhost or a Unix socket${kind === 'dev' ? ' (inside the dev stack\'s network, name its database host in DEV_DB_HOST)' : ''}`;
    throw new UserError(`${inSight.source} points at ${inSight.settings.host}, but ${how} may only reach loopback or a Unix socket; nothing was done`, fix);
  }

  const url = inSight && rule.reads.includes(inSight.source) ? inSight : undefined;
  if (!url && rule.withoutUrl === 'refuse') {
    throw new UserError(`the ${kind} target needs DATABASE_URL`, 'set DATABASE_URL to the RDS master connection (postgres://user:password@host:5432/postgres) or pass --url');
  }
  if (kind === 'prod' && url && url.settings.ssl === 'disable' && !isLoopback(url.settings.host)) {
    throw new UserError('the prod target refuses sslmode=disable', 'use sslmode=require or verify-full');
  }
  return { kind, kindFrom, url };
}

/** DATABASE_URL as a kind that never connects through it sees it: a postgres URL, or nothing (another app's sqlite://…). */
function tryParse(raw: string): ConnectionSettings | undefined {
  try {
    return parseDatabaseUrl(raw, 'DATABASE_URL');
  } catch {
    return undefined;
  }
}
