import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import type { Queryable } from '../../../db/client.ts';
import { AppError, validationError } from '../../../lib/errors.ts';
import {
  currentStreamPosition,
  formatStreamPosition,
  parseStreamPosition,
  readEventsAfter,
  type StreamPosition,
} from '../../../modules/events/event-stream.repository.ts';
import { EVENT_TYPES, type EventType } from '../../../modules/events/event.types.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { presentEvent } from './events.routes.ts';

/**
 * GET /v1/events/stream: the merchant's events as Server-Sent Events (docs/events.md, "Event stream").
 *
 * Every connection polls the database (src/modules/events/event-stream.repository.ts) rather than listening
 * to this process's own writes: events written by any gateway process reach every stream, and a client that
 * reconnects with Last-Event-ID continues exactly where it stopped.
 */

export type EventStreamTiming = { pollMs: number; heartbeatMs: number; batch: number };

export const EVENT_STREAM_TIMING: EventStreamTiming = { pollMs: 500, heartbeatMs: 15_000, batch: 100 };

/** How long a client waits before reconnecting after the stream ends (the SSE `retry` field). */
const RECONNECT_MS = 2_000;

const ZPosition = z
  .string()
  .regex(/^\d{1,20}\.\d{1,20}$/, 'must be a stream position (the `id` of a message of this stream)');

const ZTypes = z
  .string()
  .max(2_000)
  .transform((text) => text.split(',').map((type) => type.trim()))
  .pipe(z.array(z.enum(EVENT_TYPES)).min(1));

export type EventStreamSink = {
  /** Sends text; resolves once it may send more (back-pressure). */
  write(text: string): Promise<void>;
};

/** A sink over a response stream, waiting for `drain` when the client reads slowly. */
export function writableSink(stream: Writable, signal: AbortSignal): EventStreamSink {
  return {
    async write(text) {
      if (stream.write(text)) return;
      await once(stream, 'drain', { signal });
    },
  };
}

/**
 * Sends the events after `from` to `sink` until `signal` aborts: each event as `id: <position>`, `event:
 * <type>`, `data: <the event object as GET /v1/events/{id} answers it>`, and a comment line as a heartbeat
 * when nothing was sent for `heartbeatMs`. A database error ends the stream (the client reconnects and
 * resumes); it is rethrown for the caller to log.
 */
export async function pumpEventStream(options: {
  db: Queryable;
  scope: { merchantId: string; livemode: boolean };
  from: StreamPosition;
  types?: readonly EventType[];
  apiVersion: string;
  sink: EventStreamSink;
  signal: AbortSignal;
  timing?: EventStreamTiming;
}): Promise<void> {
  const { db, scope, types, sink, signal } = options;
  const timing = options.timing ?? EVENT_STREAM_TIMING;
  let position = options.from;
  let lastSent = Date.now();
  // The first message names where the stream starts, so a client that reconnects before any event arrives
  // resumes from here rather than from "now".
  await sink.write(
    `retry: ${RECONNECT_MS}\nid: ${formatStreamPosition(position)}\nevent: ready\n` +
      `data: ${JSON.stringify({ position: formatStreamPosition(position) })}\n\n`,
  );
  while (!signal.aborted) {
    const { events, next } = await readEventsAfter(db, scope, position, { types, limit: timing.batch });
    for (const event of events) {
      if (signal.aborted) return;
      const data = JSON.stringify(presentEvent(event, options.apiVersion));
      await sink.write(
        `id: ${formatStreamPosition(event.position)}\nevent: ${event.type}\ndata: ${data}\n\n`,
      );
      lastSent = Date.now();
    }
    position = next;
    if (events.length === timing.batch) continue; // more are waiting
    if (Date.now() - lastSent >= timing.heartbeatMs) {
      await sink.write(`: heartbeat ${new Date().toISOString()}\n\n`);
      lastSent = Date.now();
    }
    await sleep(timing.pollMs, undefined, { signal }).catch(() => {});
  }
}

function acceptsEventStream(accept: string | undefined) {
  return (accept ?? '')
    .split(',')
    .some((range) => range.split(';')[0]!.trim().toLowerCase() === 'text/event-stream');
}

export function registerEventStreamRoute(app: KassaApp, services: Services) {
  const open = new Set<AbortController>();
  // A stream never ends by itself: the server's shutdown ends them all, before it waits for requests in flight.
  app.addHook('preClose', async () => {
    for (const controller of open) controller.abort();
  });

  app.get(
    '/v1/events/stream',
    {
      config: { auth: 'merchant', scope: 'webhooks' },
      schema: {
        tags: ['Events'],
        summary: 'Stream events',
        description:
          'The events of the merchant and mode of the credential, as Server-Sent Events, oldest first, from the ' +
          'position given by the `Last-Event-ID` header (what EventSource sends when it reconnects) or `after`, ' +
          'else from now. Needs `Accept: text/event-stream` (406 otherwise). The first message (`event: ready`) ' +
          'carries the starting position; each event is `id: <position>`, `event: <type>`, `data: <the Event ' +
          'object>`; a comment line every 15 s keeps idle connections open. Positions are ordered: resuming ' +
          'after one sends exactly the events not yet sent, whichever gateway process wrote them.',
        produces: ['text/event-stream'],
        querystring: z.object({
          after: ZPosition.optional().describe(
            'Send the events after this position (the `id` of a message of an earlier stream)',
          ),
          types: ZTypes.optional().describe('Only these event types, comma-separated'),
        }),
        response: {
          200: z
            .string()
            .describe('text/event-stream: `id: <position>`, `event: <type>`, `data: <Event as JSON>`'),
        },
      },
    },
    async (request, reply) => {
      const scope = requireMerchant(request);
      if (!acceptsEventStream(request.headers.accept)) {
        throw new AppError(
          'not_acceptable',
          'This route streams Server-Sent Events: send Accept: text/event-stream',
        );
      }
      const lastEventId = request.headers['last-event-id'];
      let from: StreamPosition | undefined;
      if (typeof lastEventId === 'string' && lastEventId !== '') {
        from = parseStreamPosition(lastEventId);
        if (!from) {
          throw validationError([
            {
              pointer: '/header/last-event-id',
              code: 'invalid_format',
              message: 'must be a stream position (the `id` of a message of this stream)',
            },
          ]);
        }
      }
      from ??= request.query.after ? parseStreamPosition(request.query.after) : undefined;
      from ??= await currentStreamPosition(services.db);

      const controller = new AbortController();
      open.add(controller);
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no', // nginx: pass each message on as it comes
        // The connection ends with the stream: a shutting-down server must not keep it open as idle keep-alive.
        connection: 'close',
        'x-request-id': String(request.id),
        'kassa-version': request.apiVersion ?? '',
      });
      response.flushHeaders();
      const stop = () => controller.abort();
      response.on('close', stop);
      try {
        await pumpEventStream({
          db: services.db,
          scope,
          from,
          types: request.query.types,
          apiVersion: request.apiVersion ?? '',
          sink: writableSink(response, controller.signal),
          signal: controller.signal,
        });
      } catch (error) {
        if (!controller.signal.aborted) request.log.warn({ err: error }, 'event stream ended by an error');
      } finally {
        open.delete(controller);
        response.off('close', stop);
        // Closed, not left to the client: a client that has gone away may never close its side.
        response.end(() => response.socket?.destroy());
      }
    },
  );
}
