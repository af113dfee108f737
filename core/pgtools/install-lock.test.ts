import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { takeLock } from './install-lock.ts';
import { pidAlive } from '../processes.ts';

const lockFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'pgsteward-lock-')), 'install.lock');

describe('the install lock', () => {
  it('makes a second taker wait until the first releases', async () => {
    const file = lockFile();
    const release = await takeLock(file, { what: 'pg-tools' });
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    const waits: number[] = [];
    let second = false;
    const p = takeLock(file, { what: 'pg-tools', onWait: (pid) => waits.push(pid) }).then((r) => ((second = true), r));
    await new Promise((r) => setTimeout(r, 600));
    expect(second).toBe(false);
    expect(waits[0]).toBe(process.pid);
    release();
    const release2 = await p;
    expect(second).toBe(true);
    release2();
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock whose holder is gone, and times out on a live one with its pid', async () => {
    const file = lockFile();
    expect(pidAlive(2147483646)).toBe(false);
    writeFileSync(file, '2147483646');
    const release = await takeLock(file, { what: 'pg-tools' });
    expect(readFileSync(file, 'utf8')).toBe(String(process.pid));
    await expect(takeLock(file, { what: 'pg-tools', timeoutMs: 300 })).rejects.toThrow(new RegExp(`^another pg-tools \\(pid ${process.pid}\\) has held .*install\\.lock for over 0 minutes$`));
    release();
    // a release never removes a lock someone else holds now
    writeFileSync(file, '1');
    release();
    expect(readFileSync(file, 'utf8')).toBe('1');
  });
});
