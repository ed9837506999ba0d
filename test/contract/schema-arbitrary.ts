import fc from 'fast-check';

/**
 * JSON Schema (the subset the generated `/openapi.json` uses) → fast-check arbitrary of values the schema
 * accepts: `type` (one or a list), `enum`, `const`, `anyOf` / `oneOf`, `$ref` to `#/components/schemas/…`,
 * `properties` / `required` / `additionalProperties`, `propertyNames`, `items` with `minItems` / `maxItems`,
 * `minLength` / `maxLength` / `pattern`, `minimum` / `maximum`, `format` (date-time, email, uri).
 *
 * `hints` turn a property name into a realistic value (a real checkout id, a currency the gateway knows, a URL
 * of a receiver on loopback) so generated requests also get past the business rules, not only the schema.
 * Every URL generated points at 127.0.0.1: tests never reach other hosts or resolve made-up names.
 */

export type JsonSchema = Record<string, unknown>;

export type SchemaArbitraryOptions = {
  /** `#/components/schemas/Name` → schema. */
  components: Record<string, JsonSchema>;
  /** A realistic value for a property of this name (checked before the schema), or undefined. */
  hints?: (name: string, schema: JsonSchema) => fc.Arbitrary<unknown> | undefined;
  /** Cap on generated string lengths (keeps requests small; huge strings come from the malformed variants). */
  maxStringLength?: number;
};

const MAX_DEPTH = 6;

export function arbitraryFromSchema(schema: unknown, options: SchemaArbitraryOptions): fc.Arbitrary<unknown> {
  return build(schema as JsonSchema, options, undefined, 0);
}

function resolve(schema: JsonSchema, options: SchemaArbitraryOptions): JsonSchema {
  let current = schema;
  for (let hops = 0; typeof current.$ref === 'string' && hops < 20; hops += 1) {
    const name = current.$ref.replace(/^#\/components\/schemas\//, '');
    const target = options.components[name];
    if (!target) throw new Error(`unresolvable $ref ${current.$ref}`);
    const { $ref: _ref, ...rest } = current;
    current = { ...target, ...rest };
  }
  return current;
}

function build(
  raw: JsonSchema,
  options: SchemaArbitraryOptions,
  name: string | undefined,
  depth: number,
): fc.Arbitrary<unknown> {
  const schema = resolve(raw ?? {}, options);
  if (name !== undefined) {
    const hinted = options.hints?.(name, schema);
    if (hinted) return hinted;
  }
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(alternatives)) {
    const { anyOf: _a, oneOf: _o, ...shared } = schema;
    return fc.oneof(
      ...alternatives.map((alternative) => build({ ...shared, ...alternative }, options, name, depth)),
    );
  }
  const type = schema.type;
  if (Array.isArray(type)) {
    return fc.oneof(...type.map((single) => build({ ...schema, type: single }, options, name, depth)));
  }
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return integerArbitrary(schema);
    case 'number':
      return fc.oneof(
        integerArbitrary(schema),
        fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }),
      );
    case 'string':
      return stringArbitrary(schema, options);
    case 'array':
      return arrayArbitrary(schema, options, name, depth);
    case 'object':
      return objectArbitrary(schema, options, depth);
    default:
      // No type: any small JSON value.
      return fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.boolean(), fc.constant(null));
  }
}

function integerArbitrary(schema: JsonSchema): fc.Arbitrary<number> {
  const min = typeof schema.minimum === 'number' ? Math.ceil(schema.minimum) : Number.MIN_SAFE_INTEGER;
  const max = typeof schema.maximum === 'number' ? Math.floor(schema.maximum) : Number.MAX_SAFE_INTEGER;
  // Mostly small values (what requests carry), sometimes anything in range (edges included by fast-check's bias).
  const smallMin = Math.max(min, -1000);
  const smallMax = Math.min(max, 100_000);
  return smallMin <= smallMax
    ? fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: smallMin, max: smallMax }) },
        { weight: 1, arbitrary: fc.integer({ min, max }) },
      )
    : fc.integer({ min, max });
}

function stringArbitrary(schema: JsonSchema, options: SchemaArbitraryOptions): fc.Arbitrary<string> {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const cap = options.maxStringLength ?? 64;
  const maxLength = Math.max(
    minLength,
    Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : cap, cap),
  );
  const fits = (text: string) =>
    text.length >= minLength && text.length <= ((schema.maxLength as number | undefined) ?? Infinity);
  switch (schema.format) {
    case 'date-time':
      return fc
        .date({
          min: new Date('2000-01-01T00:00:00Z'),
          max: new Date('2100-01-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((date) => date.toISOString());
    case 'email':
      return fc.emailAddress().filter(fits);
    case 'uri':
    case 'url':
      return loopbackUrl();
    default:
      break;
  }
  if (typeof schema.pattern === 'string') {
    return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  }
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength, maxLength }) },
    { weight: 1, arbitrary: fc.string({ minLength, maxLength, unit: 'grapheme' }).filter(fits) },
  );
}

function arrayArbitrary(
  schema: JsonSchema,
  options: SchemaArbitraryOptions,
  name: string | undefined,
  depth: number,
) {
  const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const maxLength = Math.max(
    minLength,
    Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 4, 4),
  );
  if (depth >= MAX_DEPTH) return fc.constant([]);
  return fc.array(build((schema.items as JsonSchema) ?? {}, options, name, depth + 1), {
    minLength,
    maxLength,
  });
}

function objectArbitrary(
  schema: JsonSchema,
  options: SchemaArbitraryOptions,
  depth: number,
): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  if (depth >= MAX_DEPTH) return fc.constant({});
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, child] of Object.entries(properties)) record[key] = build(child, options, key, depth + 1);
  const known = fc.record(record, { requiredKeys: [...required].filter((key) => key in properties) });
  const extra = schema.additionalProperties;
  if (extra && typeof extra === 'object') {
    const names = schema.propertyNames as JsonSchema | undefined;
    const keyArbitrary = names
      ? (stringArbitrary(names, options) as fc.Arbitrary<string>)
      : fc.string({ minLength: 1, maxLength: 12 });
    const values = build(extra as JsonSchema, options, undefined, depth + 1);
    return fc
      .tuple(
        known,
        fc.dictionary(
          keyArbitrary.filter((key) => !(key in properties) && key !== '__proto__'),
          values,
          { maxKeys: 4 },
        ),
      )
      .map(([fixed, more]) => ({ ...more, ...fixed }));
  }
  return known;
}

/** Paths on a loopback address nothing outside this machine can be. */
export function loopbackUrl(port = 9): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('http', 'https'), fc.stringMatching(/^[a-z0-9/_-]{0,20}$/))
    .map(([scheme, path]) => `${scheme}://127.0.0.1:${port}/${path}`);
}
