/**
 * One racer of the job-lock race test (lock.test.ts): a real process, so the race is between
 * kernels' view of the file system, not between promises. Driven over IPC by the test.
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import { acquireJobLock } from './lock.ts';

type Go = { type: 'go'; round: number; lockFile: string; occupancy: string; at: number };
type Release = { type: 'release'; round: number };
type Churn = { type: 'churn'; round: number; lockFile: string; occupancy: string; at: number; forMs: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let held: { release: () => void; occupied: boolean } | undefined;

/** Sleeps to just before `at`, then spins, so all racers leave the line together. */
async function startAt(at: number): Promise<void> {
  const wait = at - Date.now() - 4;
  if (wait > 0) await sleep(wait);
  while (Date.now() < at) {
    /* spin */
  }
}

/** Takes and releases the lock as fast as it can for `forMs`, holding it for a moment each time. */
function churn(msg: Churn): { wins: number; overlaps: number } {
  let wins = 0;
  let overlaps = 0;
  const until = msg.at + msg.forMs;
  while (Date.now() < until) {
    const lock = acquireJobLock(msg.lockFile);
    if ('heldBy' in lock) continue;
    wins++;
    let mine = true;
    try {
      closeSync(openSync(msg.occupancy, 'wx'));
    } catch {
      overlaps++;
      mine = false;
    }
    const hold = Date.now() + 1;
    while (Date.now() < hold) {
      /* hold the lock for about a millisecond */
    }
    if (mine) rmSync(msg.occupancy, { force: true });
    lock.release();
  }
  return { wins, overlaps };
}

process.on('message', (msg: Go | Release | Churn) => {
  void (async () => {
    if (msg.type === 'churn') {
      await startAt(msg.at);
      process.send!({ type: 'churned', round: msg.round, pid: process.pid, ...churn(msg) });
      return;
    }
    if (msg.type === 'release') {
      if (held) {
        if (held.occupied) rmSync(`${process.env.OCCUPANCY_DIR}/occupied-${msg.round}`, { force: true });
        held.release();
        held = undefined;
      }
      process.send!({ type: 'released', round: msg.round });
      return;
    }
    await startAt(msg.at);
    const lock = acquireJobLock(msg.lockFile);
    if ('heldBy' in lock) {
      process.send!({ type: 'attempted', round: msg.round, won: false, heldBy: lock.heldBy, pid: process.pid });
      return;
    }
    // A second holder at the same time finds the occupancy file already there.
    let overlap = false;
    try {
      closeSync(openSync(msg.occupancy, 'wx'));
    } catch {
      overlap = true;
    }
    held = { release: lock.release, occupied: !overlap };
    process.send!({ type: 'attempted', round: msg.round, won: true, overlap, pid: process.pid });
  })();
});
process.send!({ type: 'ready', pid: process.pid });
