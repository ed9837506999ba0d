import type { PaymentMethodType } from '../../connectors/connector.ts';
import type { ProcessorName } from '../../connectors/processor.ts';

export const PROCESSOR_ACCOUNT_STATUSES = ['ENABLED', 'DISABLED'] as const;
export type ProcessorAccountStatus = (typeof PROCESSOR_ACCOUNT_STATUSES)[number];

export type MerchantScope = { merchantId: string; livemode: boolean };

/**
 * A merchant's own account at a processor, as stored. The credentials themselves are sealed
 * (`credentialsSealed`); `publicCredentials` are the non-secret fields and `secretHints` the last 4
 * characters of each secret field, which is all an answer ever shows of them.
 */
export type ProcessorAccount = {
  id: string;
  merchantId: string;
  livemode: boolean;
  processor: ProcessorName;
  status: ProcessorAccountStatus;
  paymentMethods: PaymentMethodType[];
  /** Upper-case ISO 4217 codes; null = every currency. */
  currencies: string[] | null;
  priority: number;
  /** Payments of this account take several partial captures (fixed by the processor, or Adyen's setting). */
  multipleCaptures: boolean;
  apiBaseUrl: string | null;
  publicCredentials: Record<string, string>;
  secretHints: Record<string, string>;
  credentialsSealed: Buffer;
  webhookSecretSet: boolean;
  /** The merchant's own data (docs/api-conventions.md, Metadata); never holds null values. */
  metadata: Record<string, string | number | boolean>;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
};
