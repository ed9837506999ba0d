import { z } from 'zod';
import {
  DEFAULT_ROLL_OVERLAP_SECONDS,
  MAX_ROLL_OVERLAP_SECONDS,
} from '../../../modules/merchants/api-key.service.ts';

/**
 * The body of every "roll a secret" POST (API keys, OAuth clients, the return-URL signing secret): how long
 * the previous secret keeps working. The whole body may be left out.
 */
export function zRollBody(previousKeeps: 'working' | 'signing') {
  return z
    .strictObject({
      expire_previous_in_seconds: z
        .number()
        .int()
        .min(0)
        .max(MAX_ROLL_OVERLAP_SECONDS)
        .optional()
        .describe(
          `How long the previous secret keeps ${previousKeeps} (default ${DEFAULT_ROLL_OVERLAP_SECONDS}; 0: stop now)`,
        ),
    })
    .nullish();
}

/** The overlap a roll asked for, or the default. */
export function rollOverlapSeconds(
  body: { expire_previous_in_seconds?: number | undefined } | null | undefined,
) {
  return body?.expire_previous_in_seconds ?? DEFAULT_ROLL_OVERLAP_SECONDS;
}
