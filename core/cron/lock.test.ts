import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../paths.ts';
import { acquireJobLock } from './lock.ts';

const TSX = path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
const RACERS = 12;
const ROUNDS = 20;

type Reply = { type: 'ready' | 'attempted' | 'released' | 'churned'; round?: number; won?: boolean; heldBy?: number; overlap?: boolean; wins?: number; overlaps?: number; pid: number };

/** A pid that surely belongs to no process: one that has just exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('cron job lock', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'pgsteward-joblock-'));
  let racers: ChildProcess[] = [];
  const inbox: Reply[] = [];

  const next = (pred: (r: Reply) => boolean, n: number, what: string) =>
    new Promise<Reply[]>((resolve, reject) => {
      const until = Date.now() + 30_000;
      const tick = () => {
        const got = inbox.filter(pred);
        if (got.length >= n) return resolve(got);
        if (Date.now() > until) return reject(new Error(`timed out waiting for ${what}: ${got.length}/${n}`));
        setTimeout(tick, 5);
      };
      tick();
    });

  beforeAll(async () => {
    racers = Array.from({ length: RACERS }, () => {
      const child = spawn(process.execPath, ['--import', TSX, path.join(REPO_ROOT, 'core/cron/lock-race-worker.ts')], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, OCCUPANCY_DIR: scratch },
      });
      child.on('message', (m: Reply) => inbox.push(m));
      return child;
    });
    await next((r) => r.type === 'ready', RACERS, 'racers to start');
  }, 120_000);

  afterAll(() => {
    for (const r of racers) r.kill('SIGKILL');
  });

  it(`${RACERS} processes racing for one lock, ${ROUNDS} rounds: exactly one holder every time, also over a dead holder's lock`, async () => {
    const dead = deadPid();
    const racerPids = new Set(racers.map((r) => r.pid!));
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(path.join(scratch, `round-${round}-`));
      const lockFile = path.join(dir, 'local-app-backup.lock');
      // What a crash leaves: nothing, a dead holder's lock, the empty file of the old
      // create-then-write lock, a recycled pid (ours, with another start time), a dead breaker.
      const start = round % 5;
      if (start === 1) writeFileSync(lockFile, `${dead} 12345 0123456789abcdef\n`);
      if (start === 2) writeFileSync(lockFile, '');
      if (start === 3) writeFileSync(lockFile, `${process.pid} 1 fedcba9876543210\n`);
      if (start === 4) {
        writeFileSync(lockFile, `${dead}\n`);
        writeFileSync(`${lockFile}.break`, `${dead} 12345 aaaaaaaaaaaaaaaa\n`);
      }
      const occupancy = path.join(scratch, `occupied-${round}`);
      const at = Date.now() + 150;
      for (const r of racers) r.send({ type: 'go', round, lockFile, occupancy, at });
      const attempts = await next((r) => r.type === 'attempted' && r.round === round, RACERS, `round ${round} attempts`);
      const winners = attempts.filter((a) => a.won);
      expect({ round, start, winners: winners.length, overlap: winners.some((w) => w.overlap) }).toEqual({ round, start, winners: 1, overlap: false });
      expect(readFileSync(lockFile, 'utf8').split(' ')[0]).toBe(String(winners[0]!.pid));
      for (const loser of attempts.filter((a) => !a.won)) expect(racerPids.has(loser.heldBy!)).toBe(true);
      for (const r of racers) r.send({ type: 'release', round });
      await next((r) => r.type === 'released' && r.round === round, RACERS, `round ${round} releases`);
      // Released, and nothing left behind: no temp file, no marker, no moved-aside copy.
      expect(readdirSync(dir)).toEqual([]);
    }
  }, 120_000);

  it(`${RACERS} processes taking and releasing one lock as fast as they can, ${ROUNDS} rounds: never two holders at once`, async () => {
    let total = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const dir = mkdtempSync(path.join(scratch, `churn-${round}-`));
      const lockFile = path.join(dir, 'local-app-checks.lock');
      const occupancy = path.join(scratch, `churn-occupied-${round}`);
      const at = Date.now() + 100;
      for (const r of racers) r.send({ type: 'churn', round, lockFile, occupancy, at, forMs: 120 });
      const done = await next((r) => r.type === 'churned' && r.round === round, RACERS, `round ${round} churn`);
      const wins = done.reduce((a, d) => a + d.wins!, 0);
      expect({ round, overlaps: done.reduce((a, d) => a + d.overlaps!, 0) }).toEqual({ round, overlaps: 0 });
      expect(wins).toBeGreaterThan(0);
      expect(readdirSync(dir)).toEqual([]);
      total += wins;
    }
    expect(total).toBeGreaterThan(ROUNDS);
  }, 120_000);

  it('a live holder keeps its lock; release removes only a lock that is still ours', () => {
    const file = path.join(mkdtempSync(path.join(scratch, 'own-')), 'job.lock');
    const first = acquireJobLock(file);
    expect('release' in first).toBe(true);
    // The same process holds it: a second acquirer (another scheduler in this process) is refused.
    expect(acquireJobLock(file)).toEqual({ heldBy: process.pid });
    if ('release' in first) first.release();
    expect(existsSync(file)).toBe(false);
    const second = acquireJobLock(file);
    writeFileSync(file, `${process.pid} 1 someoneelse\n`); // not ours any more
    if ('release' in second) second.release();
    expect(existsSync(file)).toBe(true);
  });
});
