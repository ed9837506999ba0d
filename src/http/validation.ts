import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { validationError, isFieldErrorCode, type FieldError, type FieldErrorCode } from '../lib/errors.ts';

/**
 * The one place where a request that does not fit its route's zod schemas becomes field errors
 * (docs/api-conventions.md §9): every route's body, query, path and headers are checked here, and every zod
 * issue leaves as a catalogue code (`FIELD_ERROR_CODES`, docs/errors.md) with a message in the one style — an
 * English predicate about the field at `pointer`, saying what is expected and what was sent
 * (`must be at most 100; got 101`).
 *
 * - A missing field is `required` / `is required`, whatever else its schema says about its form.
 * - An unknown field (a strict object's `unrecognized_keys`) is one `unknown_field` error per field, at its
 *   own pointer (`/shiping_amount`, `/order/products/0/colour`, `/query/expnd`).
 * - A message a schema words itself (`{ error: 'must be a colour …' }`, a refinement's message) is kept;
 *   zod's default wording never reaches a client. A refinement names its catalogue code in
 *   `params: { code }`.
 */

/** Where a part of the request is pointed at: the body at the root, the rest under their own prefix. */
const PART_PREFIX: Record<string, string> = {
  body: '',
  querystring: '/query',
  params: '/params',
  headers: '/headers',
};

function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

function pointerOf(prefix: string, path: readonly PropertyKey[]): string {
  return prefix + path.map((token) => `/${escapePointerToken(String(token))}`).join('');
}

/** A sent value as a message quotes it: short, and never more than a glimpse of a long string. */
export function describeInput(input: unknown): string {
  if (input === null) return 'null';
  if (typeof input === 'string') {
    const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
    return `${JSON.stringify(shown)} (a string)`;
  }
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'bigint')
    return String(input);
  if (Array.isArray(input)) return `a list of ${input.length}`;
  if (typeof input === 'object') return 'an object';
  return typeof input;
}

const EXPECTED_TYPE: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  bigint: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  record: 'an object',
  map: 'an object',
  set: 'a list',
  tuple: 'a list',
  date: 'a date-time',
  null: 'null',
  literal: 'a fixed value',
  enum: 'one of the listed values',
};

const FORMAT_TEXT: Record<string, string> = {
  datetime: 'a valid date-time (ISO 8601) such as "2026-03-01T00:00:00Z"',
  date: 'a valid date (ISO 8601) such as "2026-03-01"',
  time: 'a valid time (ISO 8601) such as "14:30:00"',
  duration: 'an ISO 8601 duration such as "P1D"',
  email: 'an e-mail address such as "shopper@example.com"',
  url: 'an absolute URL',
  uuid: 'a UUID',
  guid: 'a UUID',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  base64: 'base64 text',
  base64url: 'base64url text',
  jwt: 'a JSON Web Token',
  e164: 'a phone number in E.164 form such as "+4712345678"',
};

type SizeIssue = { origin?: string; inclusive?: boolean; exact?: boolean };

function sizeOf(input: unknown): number | undefined {
  if (typeof input === 'string' || Array.isArray(input)) return input.length;
  if (input instanceof Set || input instanceof Map) return input.size;
  if (input !== null && typeof input === 'object') return Object.keys(input).length;
  return undefined;
}

function unitOf(origin: string | undefined, count: number | bigint): string {
  const one = Number(count) === 1;
  if (origin === 'string') return one ? 'character' : 'characters';
  if (origin === 'object' || origin === 'record') return one ? 'key' : 'keys';
  return one ? 'item' : 'items';
}

function boundMessage(direction: 'max' | 'min', issue: SizeIssue, bound: unknown, input: unknown): string {
  const isNumber = issue.origin === 'number' || issue.origin === 'bigint' || issue.origin === 'int';
  const isDate = issue.origin === 'date';
  if (isNumber || isDate) {
    const shown = isDate && bound instanceof Date ? bound.toISOString() : String(bound);
    const relation =
      issue.inclusive === false
        ? direction === 'max'
          ? 'less than'
          : 'more than'
        : `at ${direction === 'max' ? 'most' : 'least'}`;
    return `must be ${relation} ${shown}; got ${describeInput(input)}`;
  }
  const count = bound as number;
  const size = sizeOf(input);
  const got = size === undefined ? '' : `; got ${size}`;
  const relation = issue.exact ? 'exactly' : direction === 'max' ? 'at most' : 'at least';
  if (issue.origin === 'string') return `must be ${relation} ${count} ${unitOf('string', count)} long${got}`;
  return `must hold ${relation} ${count} ${unitOf(issue.origin, count)}${got}`;
}

/** The default message of a union no branch of which matched; a union's own message is kept instead. */
const NO_MATCHING_FORM = 'does not match any allowed form';

/** The field names a strict object takes, for the message of an unknown one. */
function knownKeys(schema: unknown): string[] | undefined {
  const shape = (schema as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def
    ?.shape;
  return shape ? Object.keys(shape) : undefined;
}

function listNames(names: readonly unknown[]): string {
  return names.map((name) => (typeof name === 'string' ? name : JSON.stringify(name))).join(', ');
}

/**
 * The message of an issue whose schema did not word its own: zod's error map for every validation, below a
 * schema's own `error` and a refinement's `message` in precedence.
 */
export function defaultMessage(part: string): (issue: z.core.$ZodRawIssue) => string {
  const noun = part === 'body' ? 'field of this request' : 'parameter of this route';
  return (issue) => {
    const input = issue.input;
    if (input === undefined && issue.code !== 'custom' && issue.code !== 'unrecognized_keys')
      return 'is required';
    switch (issue.code) {
      case 'invalid_type':
        if (input === undefined) return 'is required';
        return `must be ${EXPECTED_TYPE[issue.expected] ?? issue.expected}; got ${describeInput(input)}`;
      case 'too_big':
        return boundMessage('max', issue, issue.maximum, input);
      case 'too_small':
        return boundMessage('min', issue, issue.minimum, input);
      case 'invalid_value':
        return issue.values.length === 1
          ? `must be ${listNames(issue.values)}; got ${describeInput(input)}`
          : `must be one of: ${listNames(issue.values)}; got ${describeInput(input)}`;
      case 'invalid_format': {
        const format = issue.format;
        if (format === 'starts_with')
          return `must start with "${String(issue.prefix)}"; got ${describeInput(input)}`;
        if (format === 'ends_with')
          return `must end with "${String(issue.suffix)}"; got ${describeInput(input)}`;
        if (format === 'includes')
          return `must contain "${String(issue.includes)}"; got ${describeInput(input)}`;
        const text = FORMAT_TEXT[format];
        return text
          ? `must be ${text}; got ${describeInput(input)}`
          : `does not have the expected form; got ${describeInput(input)}`;
      }
      case 'not_multiple_of':
        return `must be a multiple of ${String(issue.divisor)}; got ${describeInput(input)}`;
      case 'unrecognized_keys': {
        const known = knownKeys(issue.inst);
        if (known === undefined) return `is not a ${noun}`;
        return known.length
          ? `is not a ${noun} (it takes ${known.join(', ')})`
          : `is not a ${noun} (it takes none)`;
      }
      case 'invalid_union':
        return `${NO_MATCHING_FORM}; got ${describeInput(input)}`;
      case 'invalid_key':
        return 'has a key that is not allowed';
      case 'invalid_element':
        return 'holds a value that is not allowed';
      default:
        return 'is not valid';
    }
  };
}

/** zod's issue codes → the catalogue, for issues that name no code of their own. */
function catalogueCode(issue: z.core.$ZodIssue): FieldErrorCode {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'required' : 'invalid_type';
    case 'too_big':
      return issue.origin === 'number' || issue.origin === 'bigint' || issue.origin === 'date'
        ? 'too_large'
        : 'too_long';
    case 'too_small':
      return issue.origin === 'number' || issue.origin === 'bigint' || issue.origin === 'date'
        ? 'too_small'
        : 'too_short';
    case 'invalid_format':
      return issue.format === 'url' ? 'invalid_url' : 'invalid_format';
    case 'unrecognized_keys':
      return 'unknown_field';
    default:
      // invalid_value, not_multiple_of, invalid_union, invalid_key, invalid_element, custom
      return 'invalid_value';
  }
}

/** One issue as field errors: one per unknown key, the closest branch of a union, otherwise one. */
export function toFieldErrors(
  issue: z.core.$ZodIssue,
  prefix: string,
  base: readonly PropertyKey[] = [],
): FieldError[] {
  const path = [...base, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      pointer: pointerOf(prefix, [...path, key]),
      code: 'unknown_field',
      message: issue.message,
    }));
  }
  if (issue.code === 'invalid_union') {
    // A discriminated union whose discriminator matched nothing points at the discriminator itself.
    const discriminator = (issue as { discriminator?: string }).discriminator;
    if (discriminator !== undefined && issue.errors.length === 0) {
      const value = (issue.input as Record<string, unknown> | undefined)?.[discriminator];
      return [
        {
          pointer: pointerOf(prefix, [...path, discriminator]),
          code: value === undefined ? 'required' : 'invalid_value',
          message:
            value === undefined
              ? 'is required'
              : `is not one of the allowed values; got ${describeInput(value)}`,
        },
      ];
    }
    // Otherwise, unless the union words its own message, the branch that came closest (fewest issues) says
    // what is wrong.
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0];
    if (
      closest &&
      closest.length > 0 &&
      issue.input !== undefined &&
      issue.message.startsWith(NO_MATCHING_FORM)
    ) {
      return closest.flatMap((inner) => toFieldErrors(inner, prefix, path));
    }
  }
  const own = (issue as { params?: { code?: unknown } }).params?.code;
  // A value zod judged although none was sent: the field is missing (a refinement names its own code).
  const missing = issue.input === undefined && issue.code !== 'custom' && issue.path.length > 0;
  return [
    {
      pointer: pointerOf(prefix, path),
      code: missing ? 'required' : isFieldErrorCode(own) ? own : catalogueCode(issue),
      // A missing field is `is required` even where the schema words the field's form itself.
      message: missing ? 'is required' : issue.message,
    },
  ];
}

/** Field errors of a failed parse, for a part of the request (`body`, `querystring`, `params`, `headers`). */
export function fieldErrorsOf(error: z.ZodError, part: string): FieldError[] {
  const prefix = PART_PREFIX[part] ?? '';
  return error.issues.flatMap((issue) => toFieldErrors(issue, prefix));
}

/**
 * Fastify's validator compiler: parses with zod, reporting the input so messages can say what was sent, and
 * refuses with a `validation_failed` AppError the error handler sends as it is (or a route with
 * `attachValidation` words itself).
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = httpPart ?? 'body';
  const error = defaultMessage(part);
  return (data) => {
    const result = z.safeParse(schema, data, { reportInput: true, error });
    if (result.success) return { value: result.data };
    const fieldErrors = fieldErrorsOf(result.error, part);
    const detail = fieldErrors
      .map((fieldError) => `${fieldError.pointer || '(body)'}: ${fieldError.message}`)
      .join('; ');
    return { error: validationError(fieldErrors, detail) };
  };
};
