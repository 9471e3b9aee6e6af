/**
 * The cross-tenant walker: every operation of the OpenAPI document, as every role of tenant A,
 * aimed at tenant B's objects by id, address, domain name, query parameter and body field.
 * Each attempt must answer 404, indistinguishable from an object that does not exist, and
 * leave the database exactly as it was.
 */
import { randomUUID } from 'node:crypto';
import type { OpenAPIObject } from '@nestjs/swagger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reply, startTestApi, TEST_PASSWORD, TestApi } from './harness';
import { seedWorld, World } from './world-fixture';

type Json = Record<string, any>;

/** One way of naming an object in a URL, and how to name a missing object the same way. */
interface Form {
  label: string;
  value: string;
  missing: string;
  /** What a delete must repeat in `confirm` for this object. */
  confirm?: string;
}

type ParamKind = (w: World) => Form[];

const byId = (label: string, id: string, confirm?: string): Form => ({ label: `${label} id`, value: id, missing: randomUUID(), confirm });

const domainForms: ParamKind = (w) => [
  byId('domain', w.domain.id, w.domain.name),
  { label: 'domain name', value: w.domain.name, missing: 'no-such-domain.test', confirm: w.domain.name },
  { label: 'DOMAIN NAME', value: w.domain.name.toUpperCase(), missing: 'NO-SUCH-DOMAIN.TEST', confirm: w.domain.name },
  { label: 'domain name.', value: `${w.domain.name}.`, missing: 'no-such-domain.test.', confirm: w.domain.name },
  { label: 'IDN domain (unicode)', value: w.idn.unicode, missing: 'nicht-dä.test', confirm: w.idn.unicode },
  { label: 'IDN domain (punycode)', value: w.idn.name, missing: 'xn--nicht-d-5wa.test', confirm: w.idn.name },
];
const addressForms = (label: string, id: string, address: string): Form[] => [
  byId(label, id),
  { label: `${label} address`, value: address, missing: `nobody-${randomUUID().slice(0, 8)}@${address.split('@')[1]}` },
  { label: `${label} ADDRESS`, value: address.toUpperCase(), missing: `NOBODY-${randomUUID().slice(0, 8)}@${address.split('@')[1].toUpperCase()}` },
];

/**
 * Path parameters the walker knows, by `<first path segment>:<parameter>` or by parameter alone.
 * A new endpoint with a parameter not listed here fails the test until it is mapped.
 */
const PATH_PARAMS: Record<string, ParamKind> = {
  'tenants:id': (w) => [byId('tenant', w.tenant.id, w.tenant.name)],
  domain: domainForms,
  domainId: domainForms,
  mailbox: (w) => addressForms('mailbox', w.mailboxes.user.id, w.mailboxes.user.address),
  'mailboxes:id': (w) => addressForms('mailbox', w.mailboxes.user.id, w.mailboxes.user.address),
  alias: (w) => addressForms('alias', w.alias.id, w.alias.address),
  group: (w) => addressForms('group', w.group.id, w.group.address),
  'address-books:id': (w) => [byId('address book', w.book.id, w.book.name)],
  contactId: (w) => [byId('contact', w.contact.id)],
  'registration-codes:id': (w) => [byId('registration code', w.code.id)],
  'api-keys:id': (w) => [byId('api key', w.apiKey.id)],
  'imports:id': (w) => [byId('import job', w.importJob.id)],
  'import-jobs:id': (w) => [byId('import job', w.importJob.id)],
  'queue:recipientId': (w) => [{ label: 'queue entry id', value: w.queueEntry.id, missing: '987654321' }],
  'quarantine:id': (w) => [{ label: 'quarantine entry id', value: w.quarantineEntry.id, missing: '987654321' }],
  'transport-routes:id': () => [byId('transport route', randomUUID())],
  'mailboxes:address': (w) => [{ label: 'send-as address', value: w.alias.address, missing: `nobody@${w.domain.name}` }],
  'domains:name': (w) => [{ label: 'domain sieve script', value: `rules-${w.domain.name}`, missing: 'no-such-script' }],
  'mailboxes:name': (w) => [{ label: 'mailbox sieve script', value: `rules-${w.domain.name}`, missing: 'no-such-script' }],
};

/** Query parameters and body fields that name a tenant's object without being in the path. */
const FIELD_FORMS: Record<string, (w: World) => Form[]> = {
  tenantId: (w) => [byId('tenant', w.tenant.id)],
  domainId: (w) => [byId('domain', w.domain.id)],
  domain: (w) => domainForms(w).slice(0, 2),
  mailbox: (w) => addressForms('mailbox', w.mailboxes.user.id, w.mailboxes.user.address).slice(0, 2),
  address: (w) => [{ label: 'new address at the domain', value: `walker@${w.domain.name}`, missing: 'walker@no-such-domain.test' }],
};

/**
 * Non-404 answers accepted, each with why it reveals nothing and changes nothing. The walker
 * still demands the same answer for a missing object and an unchanged database.
 */
const ALLOWED: { operation: string; status: number; why: string }[] = [
  {
    operation: 'POST /api/registration-codes',
    status: 403,
    why: 'operators only; its `domain` field names the domain a new tenant will register, not an existing object, so nothing is looked up',
  },
  { operation: 'GET /api/queue', status: 403, why: 'operators only; `domain` filters by destination domain and is refused before anything is looked up' },
  ...['GET', 'PUT', 'DELETE'].map((m) => ({ operation: `${m} /api/domains/{domain}/sieve/scripts/{name}`, status: 403, why: "A's user on A's own domain: refused for its role before the script name is looked up, the same answer whether or not it exists" })),
  { operation: 'POST /api/domains/{domain}/sieve/scripts/{name}/activate', status: 403, why: "A's user on A's own domain: refused for its role before the script name is looked up" },
  { operation: 'POST /api/transport-routes', status: 403, why: 'operators only; `domain` names a destination domain anywhere, not a tenant object, and is refused before any lookup' },
];

// The global Sieve scripts are the operator's and belong to no tenant (sieve-scripts.spec.ts proves every other role gets 403);
// the plan catalogue is shared by every tenant, not one tenant's object (its writes are operators' only: billing.spec.ts).
const SKIP = (path: string) => path.startsWith('/api/auth/') || path === '/api/health' || path.startsWith('/api/sieve/global/') || path.startsWith('/api/plans');

interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  minItems?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
  description?: string;
}

function resolve(doc: OpenAPIObject, s: Schema | undefined): Schema | undefined {
  if (!s) return s;
  if (s.$ref) return resolve(doc, (doc.components?.schemas as Record<string, Schema>)[s.$ref.split('/').pop()!]);
  const alt = s.anyOf ?? s.oneOf ?? s.allOf;
  if (alt && !s.type) return resolve(doc, alt.find((a) => a.type !== 'null') ?? alt[0]);
  return s;
}

/** A plausible valid value for a field, so requests get past validation to the lookup. */
function sample(doc: OpenAPIObject, name: string, raw: Schema | undefined, own: World): unknown {
  const s = resolve(doc, raw) ?? {};
  if (s.const !== undefined) return s.const;
  if (s.enum) return name === 'role' && s.enum.includes('tenant_admin') ? 'tenant_admin' : s.enum[0];
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  if (type === 'array') return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(doc, name.replace(/s$/, ''), s.items, own));
  if (type === 'object') return Object.fromEntries((s.required ?? []).map((k) => [k, sample(doc, k, s.properties?.[k], own)]));
  if (type === 'integer' || type === 'number') return Math.max(1, s.minimum ?? 1);
  if (type === 'boolean') return true;
  if (s.format === 'uuid') return randomUUID();
  if (s.format === 'date-time' || /At$/.test(name)) return new Date(Date.now() + 86_400_000).toISOString();
  if (s.format === 'email' || /email|member|destination|sender|address/i.test(name)) return own.mailboxes.user.address;
  if (name === 'localPart') return 'walker';
  if (name === 'domain') return own.domain.name;
  if (/domain name/i.test(s.description ?? '')) return `walker-${randomUUID().slice(0, 8)}.test`;
  if (name === 'heloName') return 'mail.example.test';
  return `walker ${name}`;
}

function buildBody(doc: OpenAPIObject, op: Json, own: World, fill: Record<string, unknown>): unknown {
  const schema = resolve(doc, op.requestBody?.content?.['application/json']?.schema);
  if (!schema) return undefined;
  const props = schema.properties ?? {};
  const body: Json = {};
  const required = schema.required ?? [];
  // A change with no required fields (PATCH) gets its first field, so it is a real change attempt.
  const wanted = required.length ? required : Object.keys(props).slice(0, 1);
  for (const k of wanted) body[k] = sample(doc, k, props[k], own);
  if ('domain' in fill && 'localPart' in props) body.localPart = 'walker';
  for (const [k, v] of Object.entries(fill)) if (k in props) body[k] = v;
  return body;
}

interface Attempt {
  operation: string;
  actor: string;
  substitution: string;
  method: string;
  path: string;
  query: string;
  body?: unknown;
  missing: { path: string; query: string; body?: unknown };
}

describe('cross-tenant access', () => {
  let api: TestApi;
  let a: World;
  let b: World;
  const actors: { name: string; credentials: { token?: string; apiKey?: string } }[] = [];

  beforeAll(async () => {
    api = await startTestApi({ API_RATE_LIMIT_PER_MINUTE: '1000000' });
    a = await seedWorld(api, 'Anchor', 'ankerplatz-ä.test');
    b = await seedWorld(api, 'Beacon', 'bücher.test');
    for (const role of ['tenant_admin', 'domain_admin', 'user'] as const) {
      actors.push({ name: `A ${role}`, credentials: { token: await api.login(a.mailboxes[role].address, TEST_PASSWORD) } });
    }
    actors.push({ name: 'A tenant_admin api key', credentials: { apiKey: a.apiKey.key } });
  });
  afterAll(() => api?.close());

  let fingerprintSql: string | undefined;
  /** md5 of every table's rows, minus the tables and columns that legitimately move on reads. */
  async function fingerprint(): Promise<string> {
    if (!fingerprintSql) {
      const tables: { table_name: string }[] = await api.db.dataSource.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
           AND table_name NOT IN ('audit_event', 'refresh_token', 'migrations', 'typeorm_metadata') ORDER BY table_name`,
      );
      const parts = tables.map(
        ({ table_name: t }) =>
          `SELECT '${t}' AS t, md5(coalesce(string_agg(r, '|' ORDER BY r), '')) AS h FROM (SELECT (to_jsonb(x) - 'heartbeat_at' - 'last_used_at')::text AS r FROM "${t}" x) s`,
      );
      fingerprintSql = `SELECT md5(string_agg(t || ':' || h, ',' ORDER BY t)) AS h FROM (${parts.join(' UNION ALL ')}) f`;
    }
    const [{ h }] = await api.db.dataSource.query(fingerprintSql);
    return h;
  }

  function plan(): { attempts: Attempt[]; unmapped: string[]; positive: { operation: string; path: string }[] } {
    const doc = api.openApi;
    const attempts: Attempt[] = [];
    const unmapped: string[] = [];
    const positive: { operation: string; path: string }[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      if (SKIP(path)) continue;
      for (const [method, op] of Object.entries(item as Json)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        const operation = `${method.toUpperCase()} ${path}`;
        const segment = path.split('/')[2];
        const pathParams: string[] = (op.parameters ?? []).filter((p: Json) => p.in === 'path').map((p: Json) => p.name);
        const kinds = pathParams.map((p) => PATH_PARAMS[`${segment}:${p}`] ?? PATH_PARAMS[p]);
        const missingKind = pathParams.filter((_, i) => !kinds[i]);
        if (missingKind.length) {
          unmapped.push(`${operation}: add a PATH_PARAMS entry for ${missingKind.map((p) => `"${segment}:${p}" or "${p}"`).join(', ')}`);
          continue;
        }
        const fill = (template: string, values: string[]) => {
          let i = 0;
          return template.replace(/\{[^}]+\}/g, () => encodeURIComponent(values[i++]));
        };
        if (pathParams.length) {
          if (method === 'get') positive.push({ operation, path: fill(path, kinds.map((k) => k!(a)[0].value)) });
          // All of B, and for nested paths also A's parent with B's child (and so on).
          const combos: { forms: Form[]; who: string }[][] = [];
          for (let i = -1; i < kinds.length; i++) {
            if (i >= 0 && kinds.length === 1) break;
            const perParam = kinds.map((k, j) => (i === -1 || j === i ? k!(b).map((f) => ({ forms: [f], who: 'B' })) : [{ forms: k!(a).slice(0, 1), who: 'A' }]));
            let rows: { forms: Form[]; who: string }[][] = [[]];
            for (const options of perParam) rows = rows.flatMap((r) => options.map((o) => [...r, o]));
            combos.push(...rows);
          }
          for (const combo of combos) {
            const forms = combo.map((c) => c.forms[0]);
            const confirm = forms[forms.length - 1].confirm;
            const body = buildBody(doc, op, a, confirm ? { confirm } : {});
            for (const actor of actors) {
              attempts.push({
                operation,
                actor: actor.name,
                substitution: combo.map((c, j) => `${pathParams[j]}=${c.who} ${c.forms[0].label}`).join(', '),
                method,
                path: fill(path, forms.map((f) => f.value)),
                query: '',
                body,
                missing: { path: fill(path, forms.map((f, j) => (combo[j].who === 'B' ? f.missing : f.value))), query: '', body },
              });
            }
          }
          continue;
        }
        const queryNames: string[] = (op.parameters ?? []).filter((p: Json) => p.in === 'query').map((p: Json) => p.name);
        const schema = resolve(doc, op.requestBody?.content?.['application/json']?.schema);
        const bodyNames = Object.keys(schema?.properties ?? {});
        for (const [field, forms] of Object.entries(FIELD_FORMS)) {
          for (const form of forms(b)) {
            const inQuery = queryNames.includes(field);
            const inBody = bodyNames.includes(field);
            if (!inQuery && !inBody) continue;
            const q = (v: string) => (inQuery ? `?${new URLSearchParams({ [field]: v })}` : '');
            const body = (v: string) => buildBody(doc, op, a, inBody ? { [field]: v } : {});
            for (const actor of actors) {
              attempts.push({
                operation,
                actor: actor.name,
                substitution: `${inQuery ? 'query' : 'body'} ${field}=B ${form.label}`,
                method,
                path,
                query: q(form.value),
                body: body(form.value),
                missing: { path, query: q(form.missing), body: body(form.missing) },
              });
            }
          }
        }
      }
    }
    return { attempts, unmapped, positive };
  }

  const send = (attempt: { method: string }, path: string, query: string, body: unknown, actor: string): Promise<Reply> => {
    const { credentials } = actors.find((x) => x.name === actor)!;
    return api.request(attempt.method.toUpperCase(), `${path}${query}`, { ...credentials, body });
  };

  it('fingerprints the database: any row change shows, read-time noise does not', async () => {
    const first = await fingerprint();
    await api.db.dataSource.query(`UPDATE alias SET enabled = false WHERE id = $1`, [b.alias.id]);
    expect(await fingerprint()).not.toBe(first);
    await api.db.dataSource.query(`UPDATE alias SET enabled = true WHERE id = $1`, [b.alias.id]);
    expect(await fingerprint()).toBe(first);
    await api.db.dataSource.query(`UPDATE api_key SET last_used_at = now() WHERE id = $1`, [a.apiKey.id]);
    expect(await fingerprint()).toBe(first);
  });

  it("refuses every operation on tenant B's objects to every role of tenant A with 404, changing nothing", async () => {
    const { attempts, unmapped, positive } = plan();
    expect(unmapped, 'path parameters the walker does not know yet').toEqual([]);

    // Controls: A's tenant admin reaches A's own objects through the same paths, so each 404 below is a real refusal.
    const tenantAdmin = actors[0].credentials;
    const unreachable: string[] = [];
    for (const p of positive) {
      const r = await api.request('GET', p.path, tenantAdmin);
      if (r.status !== 200) unreachable.push(`${p.operation} as A tenant_admin on A's own ${p.path}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    expect(unreachable, "A's own objects must be reachable, or the walker proves nothing").toEqual([]);

    const failures: string[] = [];
    const accepted = new Map<string, number>();
    const describeAttempt = (x: Attempt) =>
      `${x.operation} as ${x.actor} with ${x.substitution} (${x.method.toUpperCase()} ${x.path}${x.query}${x.body ? ` ${JSON.stringify(x.body)}` : ''})`;
    // The actors' attempts of one substitution run together; the database is fingerprinted after each such group.
    const groups = new Map<string, Attempt[]>();
    for (const x of attempts) groups.set(`${x.operation} ${x.substitution}`, [...(groups.get(`${x.operation} ${x.substitution}`) ?? []), x]);
    let before = await fingerprint();
    const started = performance.now();
    for (const group of groups.values()) {
      const replies = await Promise.all(group.map((x) => send(x, x.path, x.query, x.body, x.actor)));
      let after = await fingerprint();
      if (after !== before) {
        failures.push(`${group[0].operation} with ${group[0].substitution}: CHANGED THE DATABASE (answers: ${group.map((x, i) => `${x.actor} ${replies[i].status}`).join(', ')})`);
      }
      let controlled = false;
      for (const [i, attempt] of group.entries()) {
        const r = replies[i];
        if (r.status === 404) continue;
        const allowed = ALLOWED.find((x) => x.operation === attempt.operation && x.status === r.status);
        const control = await send(attempt, attempt.missing.path, attempt.missing.query, attempt.missing.body, attempt.actor);
        controlled = true;
        const same = control.status === r.status && JSON.stringify(control.body) === JSON.stringify(r.body);
        if (allowed && same) {
          accepted.set(`${attempt.operation} ${r.status}`, (accepted.get(`${attempt.operation} ${r.status}`) ?? 0) + 1);
          continue;
        }
        failures.push(
          `${describeAttempt(attempt)}: ${r.status} ${JSON.stringify(r.body)}${same ? '' : `; a missing object answers ${control.status} ${JSON.stringify(control.body)}`}`,
        );
      }
      if (controlled) {
        const afterControls = await fingerprint();
        if (afterControls !== after) failures.push(`${group[0].operation}: a request for a missing object CHANGED THE DATABASE`);
        after = afterControls;
      }
      before = after;
    }
    const operations = new Set(attempts.map((x) => x.operation)).size;
    const walked = [...new Set(attempts.map((x) => x.operation))];
    console.log(`walked operations:\n  ${walked.join('\n  ')}`);
    console.log(
      `cross-tenant walker: ${attempts.length} attempts (${operations} operations × ${actors.length} actors × substitutions), ` +
        `${positive.length} positive controls, ${failures.length} failures, ${((performance.now() - started) / 1000).toFixed(1)} s` +
        (accepted.size ? `; accepted non-404: ${[...accepted].map(([k, n]) => `${k} ×${n}`).join(', ')}` : ''),
    );
    expect(failures, 'cross-tenant refusals').toEqual([]);
    expect(attempts.length).toBeGreaterThan(100);
  });

  it("changes nothing of B's when A's users try: B's objects are all still there", async () => {
    const [row] = await api.db.dataSource.query(
      `SELECT (SELECT count(*) FROM domain WHERE tenant_id = $1)::int AS domains, (SELECT count(*) FROM mailbox WHERE tenant_id = $1)::int AS mailboxes,
              (SELECT count(*) FROM alias WHERE tenant_id = $1)::int AS aliases, (SELECT status FROM tenant WHERE id = $1) AS status`,
      [b.tenant.id],
    );
    expect(row).toEqual({ domains: 2, mailboxes: 3, aliases: 1, status: 'active' });
  });
});
