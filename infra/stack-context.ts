import type { OpsConfig } from '../core/config/ops-config.ts';

/** What both stacks need besides their typed config: where they are and what setup will do. */
export interface StackContext {
  project: string;
  stack: string;
  /** The content key of migrations + role definitions (setup-key.ts). */
  setupKey: string;
  migrationsDir: string;
  /** pgsteward.config.json as the ops commands read it: schedules, time zone, retention, storage prefix. */
  ops: OpsConfig;
  /** The AWS region the prod stack deploys to (aws:region, else AWS_REGION / AWS_DEFAULT_REGION). */
  awsRegion: string | undefined;
}
