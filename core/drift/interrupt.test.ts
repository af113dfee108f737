import { afterEach, describe, expect, it } from 'vitest';
import { removedEvenOnSignals } from './interrupt.ts';

/**
 * In-process: the signal is delivered with process.emit, which runs the listeners as a real
 * SIGTERM would. (The real signals, with no other listener, are core/drift/signals.test.ts.)
 */
describe('removedEvenOnSignals under a host that handles the signal itself', () => {
  const hostCalls: string[] = [];
  const host = (sig: NodeJS.Signals) => void hostCalls.push(sig);
  afterEach(() => {
    process.off('SIGTERM', host);
    hostCalls.length = 0;
  });

  it('leaves the decision to the host: no exit, the work finishes, the reference is removed once, afterwards', async () => {
    process.on('SIGTERM', host);
    const removed: string[] = [];
    let finish!: (v: string) => void;
    const work = new Promise<string>((resolve) => (finish = resolve));
    const run = removedEvenOnSignals('the reference scratch database x', async () => void removed.push('x'), () => work);
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGTERM', 'SIGTERM');
    await new Promise((r) => setTimeout(r, 20));
    expect(removed).toEqual([]);
    finish('done');
    expect(await run).toBe('done');
    expect(removed).toEqual(['x']);
    expect(hostCalls).toEqual(['SIGTERM', 'SIGTERM']);
    // Its own listeners are gone again.
    expect(process.listeners('SIGTERM')).toEqual([host]);
  });
});
