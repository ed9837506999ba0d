import { followEventStream, parseEventTypes } from '../event-stream-client.ts';
import { connectGateway } from '../gateway-client.ts';
import { print } from '../output.ts';
import type { CommandInput } from '../spec.ts';
import { untilInterrupted } from './interrupt.ts';

/** `kassa events tail`: prints the merchant's events as they happen (GET /v1/events/stream). */
export async function tailEvents(input: CommandInput): Promise<void> {
  const gateway = connectGateway(input.options);
  const types = parseEventTypes(input.options.events);
  const json = input.options.json === true;
  await untilInterrupted((signal) =>
    followEventStream(
      gateway,
      { types, signal },
      {
        onReady: (position) =>
          console.error(`kassa: following events from ${gateway.baseUrl} (position ${position})`),
        onDisconnect: (reason, retryMs) =>
          console.error(`kassa: lost the event stream (${reason}); reconnecting in ${retryMs / 1000} s`),
        onEvent: ({ event }) => {
          if (json) return print(JSON.stringify(event));
          const about = typeof event.object_id === 'string' ? `  ${event.object_id}` : '';
          print(`${event.created_at}  ${event.type.padEnd(28)} ${event.id}${about}`);
        },
      },
    ),
  );
}
