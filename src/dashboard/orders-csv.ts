import type { Queryable } from '../db/client.ts';
import { currencyExponent } from '../lib/currencies.ts';
import type { Order } from '../modules/orders/order.types.ts';
import { exportOrders, type OrderFilters } from './queries.ts';

/**
 * The orders list as CSV (RFC 4180, CRLF lines): exactly the orders the list shows for the same filters, all
 * pages of them, in the session's mode. Cells a spreadsheet would read as a formula are defused, the file is
 * streamed batch by batch, and it stops at `CSV_ROW_LIMIT` rows with a last line that says so.
 */

export const CSV_ROW_LIMIT = 100_000;

const HEADER = [
  'order_id',
  'merchant_order_id',
  'status',
  'currency',
  'total',
  'authorized',
  'captured',
  'refunded',
  'customer_email',
  'customer_name',
  'country',
  'created_at',
];

/**
 * One cell: a value starting with `=`, `+`, `-`, `@`, tab or carriage return is prefixed with `'` so Excel,
 * LibreOffice and Google Sheets show it as text instead of running it (OWASP "CSV injection"); then quoted
 * when it holds a comma, quote or line break.
 */
export function csvCell(value: string): string {
  const defused = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** Minor units as a plain decimal in the currency's exponent (`1250` EUR → `12.50`), for spreadsheets. */
function decimal(amountMinor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  if (exponent === 0) return String(amountMinor);
  const text = String(amountMinor).padStart(exponent + 1, '0');
  return `${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
}

function orderCells(order: Order): string[] {
  const name = [order.customer?.firstName, order.customer?.lastName].filter(Boolean).join(' ');
  return [
    order.id,
    order.merchantOrderId,
    order.status,
    order.currency,
    decimal(order.totalAmount, order.currency),
    decimal(order.authorizedAmount, order.currency),
    decimal(order.capturedAmount, order.currency),
    decimal(order.refundedAmount, order.currency),
    order.customer?.email ?? '',
    name,
    order.countryCode,
    order.createdAt.toISOString(),
  ];
}

/** The file's text in pieces (the header, one piece per batch, then the limit line if it was reached). */
export async function* ordersCsv(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  filters: OrderFilters,
  maxRows = CSV_ROW_LIMIT,
): AsyncGenerator<string> {
  yield csvLine(HEADER);
  const batches = exportOrders(db, scope, filters, { maxRows });
  for (;;) {
    const next = await batches.next();
    if (next.done) {
      if (next.value.truncated)
        yield csvLine([
          `# Export stopped at ${maxRows} rows; more orders match. Narrow the filters (e.g. the date range) to export the rest.`,
        ]);
      return;
    }
    yield next.value.map((order) => csvLine(orderCells(order))).join('');
  }
}
