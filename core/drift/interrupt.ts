/**
 * Something this process created and must not leave behind (a scratch database, a cluster):
 * `fn` runs with SIGINT and SIGTERM held off, and whatever ends it (return, throw or signal)
 * `remove` runs exactly once. On a signal the process prints one line, removes, and exits
 * 130 (SIGINT) or 143 (SIGTERM), the codes a shell reports for those signals. A second
 * signal during removal is ignored: stopping half-way is what this is here to prevent, and
 * so are errors of the work the signal cut off.
 * What a SIGKILL leaves is found by the next run (see scratch.ts, ephemeral.ts).
 */
export async function removedEvenOnSignals<T>(what: string, remove: () => Promise<void>, fn: () => Promise<T>): Promise<T> {
  let removal: Promise<void> | undefined;
  const removeOnce = () => (removal ??= remove().catch(() => {}));
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) return;
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
