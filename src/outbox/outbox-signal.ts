/**
 * An in-process doorbell: code that has just COMMITTED new events or deliveries rings it, and this
 * process's outbox worker looks for work at once instead of at its next poll. Only a latency hint —
 * workers poll anyway, and other processes find the rows by polling — so a missed ring loses nothing.
 *
 * (Why not LISTEN/NOTIFY: a notifying transaction takes a database-wide lock at commit, which would
 * serialise every business transaction that emits an event.)
 */
export type OutboxSignal = {
  notify(): void;
  subscribe(listener: () => void): () => void;
};

export function createOutboxSignal(): OutboxSignal {
  const listeners = new Set<() => void>();
  return {
    notify() {
      for (const listener of listeners) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
