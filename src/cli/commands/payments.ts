import { CommandError } from '../errors.ts';
import { connectGateway } from '../gateway-client.ts';
import { print } from '../output.ts';
import type { CommandInput } from '../spec.ts';

/** `kassa payments get ID`: GET /v1/payments/{id}, as a table of its fields or (--json) the JSON itself. */
export async function getPayment(input: CommandInput): Promise<void> {
  const id = input.args[0]!;
  if (!/^[A-Za-z0-9_]{1,100}$/.test(id))
    throw new CommandError(`${JSON.stringify(id)} is not a payment id (pay_…)`);
  const gateway = connectGateway(input.options);
  const payment = await gateway.request<Record<string, unknown>>('GET', `/v1/payments/${id}`);
  if (input.options.json === true) {
    print(JSON.stringify(payment, null, 2));
    return;
  }
  print(formatFields(payment));
}

/** One line per field, nested objects flattened (`payment_method.card.last4`), lists summarised. */
export function formatFields(object: Record<string, unknown>): string {
  const rows: Array<[string, string]> = [];
  const walk = (value: unknown, path: string) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value);
      if (entries.length === 0) rows.push([path, '{}']);
      for (const [key, child] of entries) walk(child, path ? `${path}.${key}` : key);
    } else if (Array.isArray(value)) {
      rows.push([path, value.length === 0 ? '[]' : JSON.stringify(value)]);
    } else {
      rows.push([path, value === null ? '—' : String(value)]);
    }
  };
  walk(object, '');
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}
