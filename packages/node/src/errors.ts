import type { components } from './openapi.ts';

/** An RFC 9457 problem document as Kassa sends it; `code` is one of docs/errors.md. */
export type Problem = components['schemas']['Problem'];

/** Every error this client throws. */
export class KassaError extends Error {
  override name = 'KassaError';
}

/**
 * The gateway answered with an error: a problem document (or, from something in between such as a proxy, a
 * non-problem error body, then `problem` is a generic one built from the status).
 */
export class KassaApiError extends KassaError {
  override name = 'KassaApiError';
  readonly status: number;
  /** The problem's `code` (`validation_failed`, `not_found`, `idempotency_key_reused`, …). */
  readonly code: string;
  readonly problem: Problem;
  /** `request_id` of the answer (also the `X-Request-Id` header): quote it when asking for help. */
  readonly requestId: string | undefined;
  /** The Idempotency-Key the request was sent with, if any. */
  readonly idempotencyKey: string | undefined;

  constructor(problem: Problem, idempotencyKey: string | undefined) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.status = problem.status;
    this.code = problem.code;
    this.problem = problem;
    this.requestId = problem.request_id;
    this.idempotencyKey = idempotencyKey;
  }

  /** The field errors of a `validation_failed` answer (JSON pointers into the request). */
  get fieldErrors(): NonNullable<Problem['errors']> {
    return this.problem.errors ?? [];
  }
}

/** No answer: the connection failed or timed out (after the retries that were safe). */
export class KassaConnectionError extends KassaError {
  override name = 'KassaConnectionError';
}

/** A webhook whose signature, timestamp or headers do not verify. */
export class KassaWebhookError extends KassaError {
  override name = 'KassaWebhookError';
}

function isProblem(body: unknown): body is Problem {
  if (body === null || typeof body !== 'object') return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate.status === 'number' && typeof candidate.code === 'string';
}

/** The error for a non-2xx answer; reads its body. */
export async function errorFromResponse(
  response: Response,
  idempotencyKey: string | undefined,
): Promise<KassaApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isProblem(body)) return new KassaApiError(body, idempotencyKey);
  return new KassaApiError(
    {
      type: 'about:blank',
      title: response.statusText || 'HTTP error',
      status: response.status,
      code: 'http_error',
      detail: text.slice(0, 500) || `HTTP ${response.status}`,
      request_id: response.headers.get('x-request-id') ?? undefined,
    },
    idempotencyKey,
  );
}
