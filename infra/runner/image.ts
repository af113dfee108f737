import path from 'node:path';
import { REPO_ROOT } from '../../core/paths.ts';
import { contextHash } from '../build/context-hash.ts';

/**
 * The runner image's build inputs, shared by both stacks: dev builds it locally, prod builds it
 * and pushes it to ECR. RUNNER_CONTEXT lists every repository path its Dockerfile copies (a
 * test holds the two together), so RUNNER_TAG changes exactly when the image's content can.
 */
export const RUNNER_DOCKERFILE = 'infra/docker/runner/Dockerfile';

export const RUNNER_CONTEXT = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'core',
  'ops',
  'checks',
  'infra/build',
  'infra/runner',
  'infra/rds-ca.ts',
  'migrations',
  'pgsteward.config.json',
  'extensions',
  RUNNER_DOCKERFILE,
] as const;

export function runnerBuild(platform?: string) {
  return {
    context: REPO_ROOT,
    dockerfile: path.join(REPO_ROOT, RUNNER_DOCKERFILE),
    builderVersion: 'BuilderBuildKit' as const,
    ...(platform ? { platform } : {}),
  };
}

/** A content tag: the first 16 hex digits of the build inputs' SHA-256. */
export function runnerTag(root: string = REPO_ROOT): string {
  return `c-${contextHash(root, RUNNER_CONTEXT).slice(0, 16)}`;
}

/** The commands the scheduled jobs run (the image's entrypoint prefixes nothing else). */
export const JOB_COMMANDS = {
  backup: ['cron', '--once', 'backup', '--target', 'prod'],
  verify: ['cron', '--once', 'verify', '--target', 'prod'],
} as const;
export type ScheduledJob = keyof typeof JOB_COMMANDS;
export const SCHEDULED_JOBS = Object.keys(JOB_COMMANDS) as ScheduledJob[];
