import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log.ts';
import { formatBytes } from './files.ts';
import { describeTransfer, transferReporter } from './progress.ts';

function stream(isTTY: boolean) {
  let out = '';
  const s = Object.assign(new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) }), { isTTY }) as unknown as NodeJS.WriteStream;
  return { s, out: () => out };
}

describe('backup progress', () => {
  it('formats bytes and rate', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(12.34 * 1024 * 1024)).toBe('12.3 MiB');
    expect(describeTransfer({ bytes: 10 * 1024 * 1024, elapsedMs: 2000 })).toBe('10.0 MiB written, 5.00 MiB/s');
  });

  it('on a TTY rewrites one line with bytes and rate, and logs nothing', () => {
    const tty = stream(true);
    const logs = stream(false);
    const r = transferReporter('backup-db', createLogger({ name: 't', stream: logs.s }), tty.s);
    r.update({ bytes: 1024 * 1024, elapsedMs: 1000 });
    r.update({ bytes: 3 * 1024 * 1024, elapsedMs: 2000 });
    r.done();
    expect(tty.out()).toBe('\r\u001b[2Kbackup-db: 1.00 MiB written, 1.00 MiB/s…\r\u001b[2Kbackup-db: 3.00 MiB written, 1.50 MiB/s…\r\u001b[2K');
    expect(logs.out()).toBe('');
  });

  it('off a TTY puts the same facts in the structured log, at most every interval', () => {
    const pipe = stream(false);
    const logs = stream(false);
    const r = transferReporter('backup-db', createLogger({ name: 't', stream: logs.s }), pipe.s, 5000);
    for (let ms = 0; ms <= 12_000; ms += 1000) r.update({ bytes: ms * 1000, elapsedMs: ms });
    expect(pipe.out()).toBe('');
    const lines = logs.out().trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.msg, l.bytes, l.bytesPerSecond])).toEqual([
      ['backup-db in progress', 5_000_000, 1_000_000],
      ['backup-db in progress', 10_000_000, 1_000_000],
    ]);
  });
});
