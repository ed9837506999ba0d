/**
 * For commands that run until the developer stops them (`kassa listen`, `kassa events tail`): ^C or SIGTERM
 * aborts `work`'s signal, and the command ends with status 0 once `work` has finished.
 */
export async function untilInterrupted(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await work(controller.signal);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
