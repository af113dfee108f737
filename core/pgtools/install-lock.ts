import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { pidAlive } from '../processes.ts';
import { UserError } from '../errors.ts';

function holderOf(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock between processes on one machine, for installs that take minutes: the
 * file is created exclusively and holds the owner's pid. A lock whose owner is gone (killed
 * with SIGKILL, which no cleanup survives) is taken over. Taking over renames the stale file
 * away first, so two waiters cannot both remove it; one that finds it took a live lock by
 * mistake puts it back. Resolves to the release function.
 */
export async function takeLock(file: string, opts: { what: string; onWait?: (holder: number) => void; timeoutMs?: number }): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? 20 * 60_000;
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        if (holderOf(file) === process.pid) rmSync(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = holderOf(file);
    if (holder === undefined || !pidAlive(holder)) {
      const aside = `${file}.stale-${process.pid}`;
      try {
        renameSync(file, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = holderOf(aside);
      if (moved !== undefined && moved !== holder && pidAlive(moved)) {
        try {
          linkSync(aside, file);
        } catch {
          /* a third process already holds a new lock; the one we moved is lost to it */
        }
      }
      rmSync(aside, { force: true });
      continue;
    }
    if (Date.now() > until) throw new UserError(`another ${opts.what} (pid ${holder}) has held ${file} for over ${Math.round(timeoutMs / 60_000)} minutes`, `wait for it, or stop it and run ${opts.what} again`);
    opts.onWait?.(holder);
    await new Promise((r) => setTimeout(r, 250));
  }
}
