import { SIGNAL_EXIT, type InterruptSignal } from '../errors.ts';
import type { Logger } from '../log.ts';

/**
 * SIGINT/SIGTERM abort the work instead of killing the process mid-write: the work sees the
 * signal (its `reason` is the signal's name), stops its child processes, removes what it
 * created and reports one line. A second signal exits at once (130/143); whatever the run
 * created is then left for the next run to find (see core/backup/restore/scratch.ts).
 */
export function abortOnSignals(log?: Logger): AbortController {
  const ac = new AbortController();
  const onSignal = (sig: InterruptSignal) => {
    if (ac.signal.aborted) {
      process.stderr.write(`interrupted again (${sig}); exiting without cleaning up\n`);
      process.exit(SIGNAL_EXIT[sig]);
    }
    log?.warn({ signal: sig }, 'interrupted; cleaning up');
    ac.abort(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return ac;
}
