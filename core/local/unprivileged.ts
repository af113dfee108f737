import { execFileSync } from 'node:child_process';
import { UserError } from '../errors.ts';

/**
 * PostgreSQL refuses to run as root. As root we run its binaries in a user namespace where
 * our uid is mapped to an ordinary one: the server sees a non-root owner of its data folder,
 * while on disk every file stays root's, so nothing needs chown and no system user is created.
 */
const MAPPED_UID = 1000;

let checked: boolean | undefined;

function userNamespacesWork(): boolean {
  if (checked === undefined) {
    try {
      execFileSync('unshare', ['--user', `--map-user=${MAPPED_UID}`, `--map-group=${MAPPED_UID}`, 'true'], { stdio: 'ignore' });
      checked = true;
    } catch {
      checked = false;
    }
  }
  return checked;
}

/** The command and arguments that run `file args` as a non-root user. */
export function unprivileged(file: string, args: string[]): { file: string; args: string[] } {
  if (process.getuid?.() !== 0) return { file, args };
  if (!userNamespacesWork()) {
    throw new UserError(
      'PostgreSQL cannot run as root and user namespaces (unshare --user) are unavailable here',
      'run the command as an ordinary user, or use --target dev/prod',
    );
  }
  return { file: 'unshare', args: ['--user', `--map-user=${MAPPED_UID}`, `--map-group=${MAPPED_UID}`, file, ...args] };
}
