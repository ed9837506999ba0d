import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FIELD_ERROR_CODES } from '../../src/lib/errors.ts';
import { defaultMessage, fieldErrorsOf } from '../../src/http/validation.ts';

/**
 * `errors[].code` comes from one catalogue (docs/api-conventions.md §9): `FIELD_ERROR_CODES`, documented in
 * docs/errors.md. Typed codes cannot leave the list (FieldError's type); these tests keep the documentation
 * and the untyped routes into it — zod's issue codes and refinements' `params.code` — from drifting.
 */
const root = new URL('../../', import.meta.url);

async function documentedCodes(): Promise<string[]> {
  const doc = await readFile(new URL('docs/errors.md', root), 'utf8');
  const section = doc.split(/^## Field error codes$/m)[1];
  expect(section, 'docs/errors.md has a "## Field error codes" section').toBeDefined();
  const table = section!.split(/^## /m)[0]!;
  return [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((match) => match[1]!);
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return sourceFiles(full);
      return Promise.resolve(/\.tsx?$/.test(entry.name) ? [full] : []);
    }),
  );
  return nested.flat();
}

/** Parses `value` with `schema` as a route's body and answers the field errors. */
function errorsOf(schema: z.ZodType, value: unknown, part = 'body') {
  const result = z.safeParse(schema, value, { reportInput: true, error: defaultMessage(part) });
  expect(result.success).toBe(false);
  return fieldErrorsOf(result.error!, part);
}

describe('field error codes', () => {
  it('docs/errors.md lists exactly the codes of FIELD_ERROR_CODES, each once', async () => {
    const documented = await documentedCodes();
    expect(new Set(documented).size, 'no code listed twice').toBe(documented.length);
    expect([...documented].sort()).toEqual([...FIELD_ERROR_CODES].sort());
  });

  it("every refinement's params.code in src is a catalogue code", async () => {
    const files = await sourceFiles(new URL('src', root).pathname);
    const found: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const match of text.matchAll(/params: \{ code: '([a-z_]+)' \}/g)) found.push(match[1]!);
    }
    expect(found.length).toBeGreaterThan(3);
    for (const code of found) expect(FIELD_ERROR_CODES).toContain(code);
  });

  it('maps every kind of zod issue to a catalogue code, in the one message style', () => {
    const schema = z.strictObject({
      name: z.string().max(5),
      count: z.number().int().min(1).max(100),
      step: z.number().multipleOf(5),
      mode: z.enum(['automatic', 'manual']),
      at: z.iso.datetime(),
      site: z.url(),
      tags: z.array(z.string()).min(1),
      kind: z.union([z.literal('a'), z.literal('b')]),
      nested: z.strictObject({ inner: z.string() }),
    });
    const errors = errorsOf(schema, {
      name: 'too long',
      count: 101,
      step: 7,
      mode: 'auto',
      at: 'tomorrow',
      site: 'not a url',
      tags: [],
      kind: 'c',
      nested: { inner: 'x', extra: 1 },
      colour: 'red',
    });
    for (const error of errors) expect(FIELD_ERROR_CODES).toContain(error.code);
    const byPointer = Object.fromEntries(errors.map((error) => [error.pointer, error]));
    expect(byPointer['/name']).toEqual({
      pointer: '/name',
      code: 'too_long',
      message: 'must be at most 5 characters long; got 8',
    });
    expect(byPointer['/count']).toEqual({
      pointer: '/count',
      code: 'too_large',
      message: 'must be at most 100; got 101',
    });
    expect(byPointer['/step']).toMatchObject({
      code: 'invalid_value',
      message: 'must be a multiple of 5; got 7',
    });
    expect(byPointer['/mode']).toEqual({
      pointer: '/mode',
      code: 'invalid_value',
      message: 'must be one of: automatic, manual; got "auto" (a string)',
    });
    expect(byPointer['/at']).toMatchObject({ code: 'invalid_format' });
    expect(byPointer['/at']!.message).toMatch(/^must be a valid date-time \(ISO 8601\)/);
    expect(byPointer['/site']).toMatchObject({ code: 'invalid_url' });
    expect(byPointer['/tags']).toEqual({
      pointer: '/tags',
      code: 'too_short',
      message: 'must hold at least 1 item; got 0',
    });
    expect(byPointer['/kind']).toMatchObject({ code: 'invalid_value' });
    expect(byPointer['/nested/extra']).toMatchObject({
      code: 'unknown_field',
      message: 'is not a field of this request (it takes inner)',
    });
    expect(byPointer['/colour']).toMatchObject({ code: 'unknown_field' });
  });

  it('calls a missing field required with "is required", even where the schema words its form itself', () => {
    const schema = z.strictObject({
      email: z.email({ error: 'must be an e-mail address' }),
      mode: z.enum(['a', 'b']),
      count: z.number(),
    });
    expect(errorsOf(schema, {})).toEqual([
      { pointer: '/email', code: 'required', message: 'is required' },
      { pointer: '/mode', code: 'required', message: 'is required' },
      { pointer: '/count', code: 'required', message: 'is required' },
    ]);
    expect(errorsOf(schema, { email: 'x', mode: 'a', count: 1 })).toEqual([
      { pointer: '/email', code: 'invalid_format', message: 'must be an e-mail address' },
    ]);
  });

  it("keeps a refinement's own code and message, and points query parameters at /query", () => {
    const schema = z
      .strictObject({ min: z.number(), max: z.number() })
      .refine((value) => value.min <= value.max, {
        path: ['min'],
        message: 'must not be more than max',
        params: { code: 'min_exceeds_max' },
      });
    expect(errorsOf(schema, { min: 5, max: 1 })).toEqual([
      { pointer: '/min', code: 'min_exceeds_max', message: 'must not be more than max' },
    ]);
    expect(errorsOf(z.strictObject({ limit: z.string() }), { lmit: '2' }, 'querystring')).toEqual([
      { pointer: '/query/limit', code: 'required', message: 'is required' },
      {
        pointer: '/query/lmit',
        code: 'unknown_field',
        message: 'is not a parameter of this route (it takes limit)',
      },
    ]);
  });
});
