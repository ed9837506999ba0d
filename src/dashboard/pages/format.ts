import { formatMoney } from '../../lib/money.ts';

export const LOCALE = 'en-US';

export function money(amountMinor: number, currency: string): string {
  return formatMoney(amountMinor, currency, LOCALE);
}

export function dateTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Status badges share one look; the class names the colour (paid, pending, failed, neutral). */
export function statusTone(status: string): 'good' | 'wait' | 'bad' | 'neutral' {
  if (['PAID', 'SUCCEEDED', 'AUTHORIZED', 'succeeded'].includes(status)) return 'good';
  if (['PENDING', 'CREATED', 'REQUIRES_ACTION', 'PARTIALLY_REFUNDED', 'pending'].includes(status))
    return 'wait';
  if (['REJECTED', 'FAILED', 'failed'].includes(status)) return 'bad';
  return 'neutral';
}
