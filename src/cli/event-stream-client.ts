import { setTimeout as sleep } from 'node:timers/promises';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { CommandError } from './errors.ts';
import { describeProblem, fetchOrExplain, type Gateway } from './gateway-client.ts';

/**
 * A client of GET /v1/events/stream (docs/events.md, "Event stream") for `kassa listen` and `kassa events
 * tail`: reconnects after a dropped connection with the last position it saw (Last-Event-ID), so no event is
 * missed or repeated across reconnects; stops on `signal`. A refusal (bad key, missing scope) is not retried.
 */

export type StreamedEvent = {
  /** The stream position (the message's `id`). */
  position: string;
  type: string;
  /** The Event object, as GET /v1/events/{id} answers it. */
  event: { id: string; type: string; created_at: string; [key: string]: unknown };
};

export type StreamHandlers = {
  onEvent(event: StreamedEvent): Promise<void> | void;
  /** Connected (again) from `position`. */
  onReady?(position: string): void;
  /** The connection dropped; trying again in `retryMs`. */
  onDisconnect?(reason: string, retryMs: number): void;
};

export async function followEventStream(
  gateway: Gateway,
  options: { types?: string[]; after?: string; signal: AbortSignal },
  handlers: StreamHandlers,
): Promise<void> {
  let lastPosition = options.after;
  let retryMs = 2_000;
  let connected = false;
  const { signal } = options;
  while (!signal.aborted) {
    const query = options.types?.length ? `?types=${encodeURIComponent(options.types.join(','))}` : '';
    const path = `/v1/events/stream${query}`;
    let reason: string;
    try {
      const response = await fetchOrExplain(gateway.baseUrl, `${gateway.baseUrl}${path}`, {
        headers: {
          authorization: `Bearer ${gateway.apiKey}`,
          accept: 'text/event-stream',
          ...(lastPosition ? { 'last-event-id': lastPosition } : {}),
        },
        signal,
      });
      if (!response.ok || !response.body) {
        const text = await response.text();
        // The gateway restarting answers 503 for a moment: worth waiting for. Anything else will not change.
        if (response.status < 500)
          throw new CommandError(describeProblem('GET', path, response.status, text));
        reason = `${response.status}`;
      } else {
        connected = true;
        const queue: EventSourceMessage[] = [];
        const parser = createParser({
          onEvent: (message) => queue.push(message),
          onRetry: (interval) => (retryMs = interval),
        });
        const decoder = new TextDecoder();
        for await (const chunk of response.body) {
          parser.feed(decoder.decode(chunk, { stream: true }));
          // Handled one by one, in order, and the position noted only once handled: a reconnect resends
          // what was not yet handled.
          while (queue.length > 0) {
            const message = queue.shift()!;
            if (message.event === 'ready') {
              lastPosition = message.id ?? lastPosition;
              handlers.onReady?.(lastPosition ?? '');
              continue;
            }
            await handlers.onEvent({
              position: message.id ?? '',
              type: message.event ?? 'message',
              event: JSON.parse(message.data) as StreamedEvent['event'],
            });
            lastPosition = message.id ?? lastPosition;
          }
        }
        reason = 'the gateway closed the stream';
      }
    } catch (error) {
      if (signal.aborted) return;
      // A gateway that was never reached is a wrong --gateway (or one not started): say so. Once connected,
      // a lost connection is a restart or a network blip: keep trying.
      if (error instanceof CommandError && (!connected || !/cannot reach the gateway/.test(error.message)))
        throw error;
      reason = error instanceof Error ? error.message : String(error);
    }
    if (signal.aborted) return;
    handlers.onDisconnect?.(reason, retryMs);
    await sleep(retryMs, undefined, { signal }).catch(() => {});
  }
}

/** `--events a,b` as a list (undefined: every type). */
export function parseEventTypes(value: string | boolean | undefined): string[] | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((type) => type.trim())
    .filter(Boolean);
}
