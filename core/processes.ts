/**
 * Whether a process with this pid exists. EPERM means it does, owned by another user; a pid
 * that is not a positive integer never does (kill(0) or kill(-n) would signal a group).
 */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
