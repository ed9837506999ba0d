/** A JSON Schema (or any JSON object) as `/openapi.json` holds it. */
export type JsonObject = Record<string, unknown>;

/** Where the document's component schemas live: every `$ref` to one starts with this. */
export const SCHEMA_REF = '#/components/schemas/';
