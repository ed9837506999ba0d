import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../db/client.ts';
import { AppError } from '../lib/errors.ts';

/**
 * "This form was sent once": the form's own key, recorded in the idempotency table inside the transaction
 * of the form's effect. The same form sent twice (a double click, a reload that re-posts) meets the primary
 * key: the second transaction fails with a unique violation and rolls back, so the effect happens once.
 * Forms that show a secret once cannot simply replay their answer, so the repeat is told, not replayed.
 */
export async function recordFormOnce(
  tx: Queryable,
  request: FastifyRequest,
  scope: { merchantId: string; livemode: boolean },
  formKey: string,
  path: string,
  result: Record<string, unknown>,
): Promise<void> {
  await tx.query(
    `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
       request_fingerprint, state, response_status, response_body, completed_at)
     VALUES ($1, $2, $3, 'POST', $4, $5, 'completed', 201, $6, now())`,
    [
      scope.merchantId,
      scope.livemode,
      `dashboard:${formKey}`,
      path,
      formKey,
      request.server.idempotencyResponses.seal(JSON.stringify(result)),
    ],
  );
}

/** Whether `error` is the unique violation of a form key recorded already (see `recordFormOnce`). */
export function isRepeatedForm(error: unknown): boolean {
  return (error as { code?: string } | undefined)?.code === '23505';
}

/**
 * The query a form POST that failed redirects back with: the form sent again → `notice=<repeatedNotice>` (its
 * effect happened the first time); a refusal → `error=<its code>`, which the page turns into its message.
 * Anything else is not the person's doing and is thrown on.
 */
export function formFailureQuery(caught: unknown, repeatedNotice: string): string {
  if (isRepeatedForm(caught)) return `notice=${repeatedNotice}`;
  if (caught instanceof AppError) return `error=${caught.code}`;
  throw caught;
}
