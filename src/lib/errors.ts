/**
 * One error type, one closed catalogue of codes, one code → HTTP status table.
 *
 * Every failure the API reports is an `AppError` whose `code` is a key of `ERROR_CATALOGUE`; the HTTP layer
 * turns it into an RFC 9457 problem document. `docs/errors.md` is checked against this table by a test, so
 * adding a code means documenting it.
 */

export const ERROR_CATALOGUE = {
  // 400 — the request itself cannot be understood
  invalid_request: { status: 400, title: 'The request is not valid' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  idempotency_key_invalid: { status: 400, title: 'The Idempotency-Key header is not valid' },
  invalid_api_version: { status: 400, title: 'The Kassa-Version header names no version of this API' },
  invalid_cursor: { status: 400, title: 'The cursor is not an object of this list' },
  // 401 / 403 — who is calling and what they may do
  authentication_required: { status: 401, title: 'Authentication is required' },
  invalid_token: { status: 401, title: 'The access token is not valid' },
  invalid_api_key: { status: 401, title: 'The API key is not valid' },
  invalid_signature: { status: 401, title: 'The signature of this webhook is not valid' },
  forbidden: { status: 403, title: 'These credentials may not do this' },
  insufficient_scope: { status: 403, title: 'These credentials lack the scope this route needs' },
  card_data_not_permitted: { status: 403, title: 'This merchant may not send raw card data' },
  livemode_not_allowed: { status: 403, title: 'This operation is available in test mode only' },
  // 404 / 405 / 406 / 409 / 410 / 413 / 415
  not_found: { status: 404, title: 'The resource does not exist' },
  route_not_found: { status: 404, title: 'No such route' },
  method_not_allowed: { status: 405, title: 'The method is not allowed on this route' },
  not_acceptable: { status: 406, title: 'The route cannot answer in a media type the request accepts' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  invalid_state_transition: { status: 409, title: 'The object is not in a state that allows this' },
  idempotency_key_in_use: { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  payment_in_progress: { status: 409, title: 'A payment has already started for this checkout' },
  order_changed: { status: 409, title: 'The order changed since the payment form was shown' },
  gone: { status: 410, title: 'The resource is no longer available' },
  payload_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'The request content type is not supported' },
  // 422 — understood but refused
  validation_failed: { status: 422, title: 'The request has invalid fields' },
  idempotency_key_reused: {
    status: 422,
    title: 'This Idempotency-Key was used with a different request',
  },
  amount_exceeds_capturable: { status: 422, title: 'The amount exceeds what can still be captured' },
  amount_exceeds_refundable: { status: 422, title: 'The amount exceeds what can still be refunded' },
  payment_method_not_available: {
    status: 422,
    title: 'The payment method is not available for this checkout',
  },
  payment_declined: { status: 422, title: 'The payment was declined' },
  no_processor: {
    status: 422,
    title: 'No processor account can take this payment',
  },
  // 429 / 5xx
  rate_limited: { status: 429, title: 'Too many requests' },
  too_many_attempts: { status: 429, title: 'Too many declined payment attempts' },
  internal_error: { status: 500, title: 'Something went wrong on our side' },
  connector_error: { status: 502, title: 'The payment processor failed to answer' },
  service_unavailable: { status: 503, title: 'The service is temporarily unavailable' },
  connector_timeout: { status: 504, title: 'The payment processor did not answer in time' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/**
 * The one catalogue of field error codes (`errors[].code`, docs/api-conventions.md §9). Never a validation
 * library's own codes: zod's issues are mapped onto these (src/http/validation.ts). `docs/errors.md`
 * ("Field error codes") is checked against this list by a test, so a new code is documented before it is used.
 */
export const FIELD_ERROR_CODES = [
  // any field
  'required',
  'unknown_field',
  'invalid_type',
  'invalid_value',
  'invalid_format',
  'invalid_characters',
  'too_small',
  'too_large',
  'too_short',
  'too_long',
  'duplicate',
  'not_allowed',
  'invalid_url',
  'url_not_allowed',
  // orders and amounts
  'subtotal_mismatch',
  'total_mismatch',
  'total_zero',
  'total_negative',
  'amount_too_large',
  // card data (Processor API) and payment methods
  'invalid_card_number',
  'invalid_expiry',
  'card_expired',
  'invalid_cvc',
  'unsupported_card_brand',
  'payment_method_not_available',
  // Kassa's own, one rule each
  'too_many_keys',
  'single_use',
  'invalid_locale',
  'not_applicable',
  'min_exceeds_max',
  'wildcard_not_alone',
  'no_processor',
  'saved_card_sandbox_only',
  'unsupported',
  'invalid_credentials',
  'livemode_mismatch',
  'required_for_live',
  'invalid_currency',
  'not_allowed_in_production',
] as const;

export type FieldErrorCode = (typeof FIELD_ERROR_CODES)[number];

const FIELD_ERROR_CODE_SET: ReadonlySet<string> = new Set(FIELD_ERROR_CODES);

export function isFieldErrorCode(code: unknown): code is FieldErrorCode {
  return typeof code === 'string' && FIELD_ERROR_CODE_SET.has(code);
}

/** A problem with one field of the request; `pointer` is an RFC 6901 JSON pointer into the body. */
export type FieldError = { pointer: string; code: FieldErrorCode; message: string };

export type AppErrorOptions = {
  errors?: FieldError[];
  /** Extension members added to the problem document (e.g. `current_status`, `allowed_statuses`). */
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, detail?: string, options: AppErrorOptions = {}) {
    super(detail ?? ERROR_CATALOGUE[code].title, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }

  get status(): number {
    return ERROR_CATALOGUE[this.code].status;
  }
}

export type ProblemDocument = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  request_id?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
};

export const PROBLEM_TYPE_BASE = 'https://kassa.dev/errors/';

export function toProblemDocument(error: AppError, context: { instance?: string; requestId?: string } = {}) {
  const problem: ProblemDocument = {
    ...error.extensions,
    type: `${PROBLEM_TYPE_BASE}${error.code}`,
    title: ERROR_CATALOGUE[error.code].title,
    status: error.status,
    detail: error.message,
    code: error.code,
  };
  if (context.instance) problem.instance = context.instance;
  if (context.requestId) problem.request_id = context.requestId;
  if (error.errors?.length) problem.errors = error.errors;
  return problem;
}

/** Shorthand for the most common refusal: one or more invalid fields. */
export function validationError(errors: FieldError[], detail?: string): AppError {
  const first = errors[0];
  return new AppError(
    'validation_failed',
    detail ?? (first ? `${first.pointer}: ${first.message}` : undefined),
    {
      errors,
    },
  );
}

/** A refused state transition names the current status and the ones the operation accepts. */
export function invalidStateError(
  objectName: string,
  currentStatus: string,
  allowedStatuses: readonly string[],
  action: string,
): AppError {
  return new AppError(
    'invalid_state_transition',
    `Cannot ${action} a ${objectName} whose status is ${currentStatus}; allowed: ${allowedStatuses.join(', ') || 'none'}`,
    { extensions: { current_status: currentStatus, allowed_statuses: [...allowedStatuses] } },
  );
}

export function notFoundError(objectName: string, id: string): AppError {
  return new AppError('not_found', `No ${objectName} with id ${id}`);
}
