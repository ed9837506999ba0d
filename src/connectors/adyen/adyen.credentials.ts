import { z } from 'zod';

/**
 * An Adyen account as a merchant connects it (`POST /v1/processor-accounts`, snake_case as the API takes it).
 * `api_key` is the web service user's API key; `hmac_key` is the HMAC key of the Standard webhook the merchant
 * registers (hex, as Adyen's Customer Area shows it); `live_url_prefix` is the live endpoint prefix from
 * Customer Area › Developers › API URLs (live mode only).
 */
export const adyenCredentialsSchema = z.strictObject({
  api_key: z.string().trim().min(1).max(1000),
  merchant_account: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_.-]+$/, 'a merchant account code has letters, digits, "_", "." and "-" only'),
  hmac_key: z
    .string()
    .trim()
    .regex(/^(?:[0-9a-fA-F]{2}){16,128}$/, 'the HMAC key is hexadecimal, as Adyen shows it')
    .optional(),
  live_url_prefix: z
    .string()
    .trim()
    .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/i, 'the live URL prefix is the "[random]-[company name]" part only')
    .max(200)
    .optional(),
});

export type AdyenCredentials = z.infer<typeof adyenCredentialsSchema>;
