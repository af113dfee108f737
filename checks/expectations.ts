import path from 'node:path';
import { loadProjectConfig, parseProjectConfig } from '../core/config/project-config.ts';
import { CONFIG_FILE_NAME } from '../core/config/ops-config.ts';
import { REPO_ROOT } from '../core/paths.ts';
import type { Expectations } from '../core/config/checks-config.ts';

/**
 * The checks' settings come from the project configuration file (pgsteward.config.json, read
 * by core/config/checks-config.ts); nothing about an application is written in code. This
 * module keeps the names the rules import, and reads this repository's own file for the
 * callers that name no configuration (the tests, restore's proof on our own database).
 */
export type { Expectations, FullTextColumn, SearchProbe, SearchQuery, TableColumn } from '../core/config/checks-config.ts';
export { SQUAWK_RULES } from '../core/config/checks-config.ts';

/** This repository's own file, which enables every policy. */
export const PROJECT_CONFIG_FILE = path.join(REPO_ROOT, CONFIG_FILE_NAME);

/** This project's expectations, from its own pgsteward.config.json; the pool budget honours DB_POOL_MAX / DB_APP_INSTANCES. */
export function projectExpectations(env: NodeJS.ProcessEnv = process.env): Expectations {
  return loadProjectConfig({ file: PROJECT_CONFIG_FILE, env, repoRoot: REPO_ROOT, stateDir: path.join(REPO_ROOT, '.pgsteward') }).checks;
}

/** What the checks hold a database to with no configuration file at all: no policy, nothing named, every default. */
export function unconfiguredExpectations(env: NodeJS.ProcessEnv = process.env): Expectations {
  return parseProjectConfig(undefined, { file: undefined, baseDir: REPO_ROOT, stateDir: path.join(REPO_ROOT, '.pgsteward'), env }).checks;
}

/** Expectations with whole sections replaced (tests, and other databases); the base defaults to this project's. */
export function resolveExpectations(overrides: Partial<Expectations> = {}, base?: Expectations): Expectations {
  return { ...(base ?? projectExpectations()), ...overrides };
}

/** Splits `schema.table` as the configuration writes it. */
export function splitTable(name: string): { schema: string; table: string } {
  const dot = name.indexOf('.');
  return dot < 0 ? { schema: 'public', table: name } : { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}
