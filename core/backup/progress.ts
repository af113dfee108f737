import { progressLine } from '../cli/progress.ts';
import type { Logger } from '../log.ts';
import { formatBytes } from './files.ts';

export interface TransferProgress {
  bytes: number;
  elapsedMs: number;
}

/** `12.3 MiB written, 4.10 MiB/s`. Pure. */
export function describeTransfer(p: TransferProgress, verb = 'written'): string {
  const rate = p.elapsedMs > 0 ? (p.bytes * 1000) / p.elapsedMs : 0;
  return `${formatBytes(p.bytes)} ${verb}, ${formatBytes(Math.round(rate))}/s`;
}

/**
 * Progress of a long transfer: a rewritten line on a TTY; without one, the same facts as a
 * structured log line every `logEveryMs`, so a cron log shows that a big dump is moving.
 */
export function transferReporter(what: string, logger: Logger, stream: NodeJS.WriteStream = process.stderr, logEveryMs = 10_000) {
  const line = progressLine(what, stream);
  let lastLog = 0;
  return {
    update(p: TransferProgress): void {
      if (stream.isTTY) {
        line(describeTransfer(p));
      } else if (p.elapsedMs - lastLog >= logEveryMs) {
        lastLog = p.elapsedMs;
        logger.info({ bytes: p.bytes, bytesPerSecond: Math.round((p.bytes * 1000) / Math.max(1, p.elapsedMs)) }, `${what} in progress`);
      }
    },
    done(): void {
      line('');
    },
  };
}
