/**
 * Something this process created and must not leave behind (a scratch database, a cluster):
 * `fn` runs with SIGINT and SIGTERM held off, and whatever ends it (return, throw or signal)
 * `remove` runs exactly once. On a signal the process prints one line, removes, and exits
 * 130 (SIGINT) or 143 (SIGTERM), the codes a shell reports for those signals. A second
 * signal during removal is ignored: stopping half-way is what this is here to prevent, and
 * so are errors of the work the signal cut off.
 * What a SIGKILL leaves is found by the next run (see scratch.ts, ephemeral.ts).
 *
 * A process that handles the signal itself (the cron scheduler waits for its running job;
 * restore-db and verify-backup abort their work and clean up) keeps that decision: when
 * another listener is there, this one only says that the reference goes when the work ends,
 * and `remove` runs then, as on any return. Exiting under such a host would cut off its own
 * clean-up and break its promise to finish the running job.
 */
export async function removedEvenOnSignals<T>(what: string, remove: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
  let removal: Promise<void> | undefined;
  const removeOnce = () => (removal ??= remove().catch(() => {}));
  let signalled = false;
  let deferred = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
    if (process.listenerCount(signal) > 1) {
      if (!deferred) process.stderr.write(`interrupted (${signal}): ${what} is removed when the running work ends\n`);
      deferred = true;
      return;
    }
    signalled = true;
    // From here the process only removes and exits. Work cut off mid-flight (a driver
    // writing to a session the removal just terminated) must not crash it before that.
    process.on('uncaughtException', () => {});
    process.on('unhandledRejection', () => {});
    process.stderr.write(`interrupted (${signal}): removing ${what}\n`);
    void removeOnce().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn();
  } finally {
    await removeOnce();
    if (!signalled) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
