import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { pidAlive } from '../backup/files.ts';

/**
 * A job lock across processes: a file created exclusively with the holder's pid. A lock whose
 * holder is gone (crash, SIGKILL) is taken over. Returns a release function, or the live
 * holder's pid when the job is already running elsewhere.
 */
export function acquireJobLock(file: string): { release: () => void } | { heldBy: number } {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { release: () => rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (pidAlive(holder) && holder !== process.pid) return { heldBy: holder };
      rmSync(file, { force: true });
    }
  }
  return { heldBy: -1 };
}
