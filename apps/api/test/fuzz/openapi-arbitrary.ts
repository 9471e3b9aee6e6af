/**
 * Request values for the fuzz harness, generated from the OpenAPI document's schemas (which nestjs-zod
 * derives from the contracts' zod schemas), mixed at every level with hostile values: NUL and control
 * characters, overlong strings, odd Unicode, wrong types, huge numbers.
 */
import fc from 'fast-check';

export type Json = Record<string, any>;

export interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  nullable?: boolean;
  pattern?: string;
}

/** Strings a careless or hostile client sends. */
export const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u001f\u007f',
  'line\r\nInjected: header',
  '\u202Eevil\u202C',
  '\u200B\u200D\uFEFF',
  '\uD800',
  '\uDFFFx\uD83D',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀👩‍👩‍👧',
  'İıſK',
  'e\u0301\u0301\u0301',
  '金笛邮件 海淀',
  '../../etc/passwd',
  '%00',
  '%',
  "'; DROP TABLE mailbox; --",
  '$where',
  '{{quota}}{{used}}{{x}}',
  '=cmd|"/c calc"!A1',
  'a'.repeat(321),
  'x@'.repeat(200),
  'ß'.repeat(5000),
  'y'.repeat(70_000),
  '1e309',
  '-0',
  'NaN',
  'null',
  'true',
  '[]',
];

export const HOSTILE_NUMBERS = [0, -1, -0.5, 0.5, 1e308, -1e308, 2 ** 53, 2 ** 63, -(2 ** 63), Number.MAX_SAFE_INTEGER + 2, 1e-300];

/** Path parameter values sent raw (already %-encoded where they say so): slashes, NUL, dot segments, bad escapes. */
export const HOSTILE_PATH_SEGMENTS = ['%00', 'a%00b', 'a%2Fb', 'a/b', '..', '%2e%2e', '%ZZ', '%C0%AF', '%EF%BF%BF', '%F0%9F%98%80', 'x'.repeat(4000), '%0d%0aSet-Cookie:x=1', '%20', 'null', '-1', '1e999', '00000000-0000-0000-0000-000000000000'];

export const hostileString = fc.constantFrom(...HOSTILE_STRINGS);
const hostileNumber = fc.constantFrom(...HOSTILE_NUMBERS);
const wrongType = fc.constantFrom<unknown>(null, true, false, [], {}, [null], { $gt: '' }, 'string', 12345);
export const hostile: fc.Arbitrary<unknown> = fc.oneof(hostileString, hostileNumber, wrongType);

export class SchemaArbitraries {
  constructor(
    private readonly doc: Json,
    /** Known valid values by field name (ids, addresses, domain names), so requests reach past validation. */
    private readonly known: Record<string, string[]>,
  ) {}

  resolve(s: Schema | undefined): Schema {
    if (!s) return {};
    if (s.$ref) return this.resolve(this.doc.components.schemas[s.$ref.split('/').pop()!]);
    return s;
  }

  /** A value for the schema: well-formed most of the time, hostile sometimes, at every depth. */
  value(raw: Schema | undefined, name = '', depth = 0): fc.Arbitrary<unknown> {
    const wellFormed = this.wellFormed(raw, name, depth);
    return fc.oneof({ weight: 5, arbitrary: wellFormed }, { weight: 1, arbitrary: hostile });
  }

  private wellFormed(raw: Schema | undefined, name: string, depth: number): fc.Arbitrary<unknown> {
    const s = this.resolve(raw);
    const alternatives = s.anyOf ?? s.oneOf;
    if (alternatives?.length) return fc.oneof(...alternatives.map((a) => this.wellFormed(a, name, depth)));
    if (s.allOf?.length) return this.wellFormed(Object.assign({}, ...s.allOf.map((a) => this.resolve(a))), name, depth);
    if (s.const !== undefined) return fc.constant(s.const);
    if (s.enum?.length) return fc.constantFrom(...s.enum);
    const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
    const nullable = s.nullable || types.includes('null');
    const type = types.find((t) => t !== 'null') ?? (s.properties ? 'object' : 'string');
    const base = this.ofType(s, type, name, depth);
    return nullable ? fc.option(base, { nil: null }) : base;
  }

  private ofType(s: Schema, type: string, name: string, depth: number): fc.Arbitrary<unknown> {
    switch (type) {
      case 'integer':
      case 'number': {
        const min = typeof s.minimum === 'number' ? s.minimum : -1_000_000;
        const max = typeof s.maximum === 'number' ? s.maximum : 1_000_000;
        const lo = Math.max(min, -Number.MAX_SAFE_INTEGER);
        const hi = Math.min(max, Number.MAX_SAFE_INTEGER);
        const edges = fc.constantFrom(lo, hi, lo - 1, hi + 1);
        const inRange = type === 'integer' ? fc.integer({ min: Math.max(lo, -(2 ** 31)), max: Math.min(hi, 2 ** 31 - 1) }) : fc.double({ min: lo, max: hi, noNaN: true });
        return fc.oneof({ weight: 4, arbitrary: inRange }, { weight: 1, arbitrary: edges });
      }
      case 'boolean':
        return fc.boolean();
      case 'array': {
        if (depth > 4) return fc.constant([]);
        const maxLength = Math.min(s.maxItems ?? 4, 4);
        return fc.array(this.value(s.items, name, depth + 1), { minLength: Math.min(s.minItems ?? 0, maxLength), maxLength });
      }
      case 'object': {
        if (depth > 4 || !s.properties) return fc.constant({});
        const props = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, this.value(v, k, depth + 1)]));
        return fc.record(props, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
      }
      default:
        return this.string(s, name);
    }
  }

  private string(s: Schema, name: string): fc.Arbitrary<string> {
    const known = this.known[name];
    const max = Math.min(s.maxLength ?? 40, 40);
    const min = Math.min(s.minLength ?? 0, max);
    const options: fc.Arbitrary<string>[] = [fc.string({ minLength: min, maxLength: max }), fc.string({ unit: 'grapheme', minLength: min, maxLength: max })];
    if (s.format === 'uuid' || /id$/i.test(name)) options.push(fc.uuid());
    if (s.format === 'date-time' || /At$/.test(name)) options.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
    if (known?.length) options.push(fc.constantFrom(...known), fc.constantFrom(...known), fc.constantFrom(...known));
    return fc.oneof(...options);
  }
}
