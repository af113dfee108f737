/** What both stacks need besides their typed config: where they are and what setup will do. */
export interface StackContext {
  project: string;
  stack: string;
  /** The content key of migrations + role definitions (setup-key.ts). */
  setupKey: string;
  migrationsDir: string;
}
