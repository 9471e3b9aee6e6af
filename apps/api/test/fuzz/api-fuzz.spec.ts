/**
 * The fuzz harness: every operation in /api/docs-json, as every role (and signed out), with requests
 * generated from the operation's own schemas and hostile values (fast-check, fixed seed, a bounded
 * number of runs per operation). No answer may be a 5xx, and every answer must match the OpenAPI
 * document (openapi-response-validator): its status is documented, its body fits that status's schema.
 */
import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import OpenAPIResponseValidator from 'openapi-response-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TEST_PASSWORD, TestApi } from '../harness';
import { seedWorld, World } from '../world-fixture';
import { HOSTILE_PATH_SEGMENTS, hostileString, Json, Schema, SchemaArbitraries } from './openapi-arbitrary';

const SEED = 20261207;
/** Requests per operation and role: ~60 operations × 5 roles × this keeps the file near a minute. */
const RUNS = Number(process.env.DIZI_FUZZ_RUNS ?? 6);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
type Role = 'anonymous' | 'user' | 'domain_admin' | 'tenant_admin' | 'operator';
const ROLES: Role[] = ['anonymous', 'user', 'domain_admin', 'tenant_admin', 'operator'];

interface Operation {
  method: (typeof METHODS)[number];
  path: string;
  op: Json;
}

interface Generated {
  params: Record<string, string>;
  query: [string, string][];
  body: unknown;
  hasBody: boolean;
}

interface Finding {
  operation: string;
  role: Role;
  request: string;
  status: number;
  problem: string;
}

describe('fuzzing every operation of the OpenAPI document', () => {
  let api: TestApi;
  let doc: Json;
  let world: World;
  let other: World;
  let hash: string;
  const tokens: Partial<Record<Role, string>> = {};
  const victims = new Map<World, { id: string; address: string }>();
  const operations: Operation[] = [];

  const actors = () => world.mailboxes;
  async function signIn(role: Role): Promise<void> {
    if (role === 'anonymous') return;
    tokens[role] = role === 'operator' ? await api.operatorToken() : await api.login(actors()[role].address, TEST_PASSWORD);
  }

  /** Puts the actors back (a fuzzed request may suspend them, change their role or reset their password) and signs in again where needed. */
  async function heal(): Promise<void> {
    const q = (sql: string, params: unknown[]) => api.db.dataSource.query(sql, params);
    await q(`UPDATE tenant SET status = 'active' WHERE id = $1 AND status <> 'active'`, [world.tenant.id]);
    await q(`UPDATE domain SET status = 'active' WHERE tenant_id = $1 AND status <> 'active'`, [world.tenant.id]);
    for (const role of ['tenant_admin', 'domain_admin', 'user'] as const) {
      await q(`UPDATE mailbox SET status = 'active', role = $2, password_hash = $3 WHERE id = $1 AND (status <> 'active' OR role <> $2 OR password_hash <> $3)`, [
        actors()[role].id,
        role,
        hash,
      ]);
    }
    for (const role of ROLES) {
      if (role === 'anonymous') continue;
      const me = await api.request('GET', '/api/auth/me', { token: tokens[role] });
      if (me.status !== 200) await signIn(role);
    }
  }

  beforeAll(async () => {
    api = await startTestApi({ LOGIN_MAX_FAILURES_PER_IP: '100000000', LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: '100000000' });
    world = await seedWorld(api, 'Fuzz', 'fuzz-bücher.test');
    other = await seedWorld(api, 'Other', 'andere-bücher.test');
    for (const w of [world, other]) {
      const address = `victim@${w.domain.name}`;
      const [row] = await api.db.dataSource.query(
        `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, role, password_hash, quota_bytes) VALUES ($1, $2, 'victim', $3, 'user', 'x', 1048576) RETURNING id`,
        [w.tenant.id, w.domain.id, address],
      );
      victims.set(w, { id: row.id, address });
    }
    [hash] = (await api.db.dataSource.query(`SELECT password_hash FROM mailbox WHERE id = $1`, [world.mailboxes.user.id])).map((r: Json) => r.password_hash);
    for (const role of ROLES) await signIn(role);
    doc = (await (await fetch(`${api.url}/api/docs-json`)).json()) as Json;
    if (process.env.DIZI_FUZZ_DOC) writeFileSync(process.env.DIZI_FUZZ_DOC, JSON.stringify(doc, null, 1));
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const method of METHODS) if (item[method]) operations.push({ method, path, op: item[method] });
    }
  }, 120_000);
  afterAll(() => api?.close());

  /** Valid values the generator mixes in, by field or parameter name: ours and another tenant's. */
  const knownValues = (): Record<string, string[]> => {
    const both = (f: (w: World) => string[]) => [...f(world), ...f(other)];
    const domains = both((w) => [w.domain.id, w.domain.name, w.idn.unicode]);
    // Never the actors' own mailboxes: a fuzzed DELETE would leave a role without anyone to play it.
    const mailboxes = both((w) => [victims.get(w)!.id, victims.get(w)!.address]);
    return {
      id: both((w) => [w.tenant.id, w.book.id, w.code.id, w.apiKey.id, w.importJob.id]),
      tenantId: both((w) => [w.tenant.id]),
      domain: domains,
      domainId: both((w) => [w.domain.id]),
      mailbox: mailboxes,
      address: mailboxes.concat(both((w) => [w.alias.address, w.group.address, `new@${w.domain.name}`])),
      alias: both((w) => [w.alias.id, w.alias.address]),
      group: both((w) => [w.group.id, w.group.address]),
      contactId: both((w) => [w.contact.id]),
      recipientId: both((w) => [w.queueEntry.id]),
      member: mailboxes,
      forwardTo: mailboxes,
      destinations: mailboxes,
      username: mailboxes,
      q: ['a', 'fuzz', '%', '_'],
    };
  };

  function requestArbitrary(arbs: SchemaArbitraries, o: Operation): fc.Arbitrary<Generated> {
    const params: Json[] = o.op.parameters ?? [];
    const known = knownValues();
    const pathArbs = Object.fromEntries(
      params
        .filter((p) => p.in === 'path')
        .map((p) => {
          const valid = known[p.name] ?? known.id;
          // Valid values are sent %-encoded; hostile ones raw, so '%00' reaches the router as a NUL.
          const value = fc.oneof(
            { weight: 3, arbitrary: fc.constantFrom(...valid).map(enc) },
            { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_PATH_SEGMENTS) },
            // Never empty: `/api/things/` is the list route, another operation with its own answer.
            { weight: 1, arbitrary: fc.oneof(fc.uuid(), hostileString.filter((v) => v.length > 0)).map(enc) },
          );
          return [p.name, value];
        }),
    );
    const queryArbs = params
      .filter((p) => p.in === 'query')
      .map((p) =>
        fc.option(
          arbs.value(p.schema as Schema, p.name).map((v): [string, string][] => (Array.isArray(v) ? v.map((x) => [p.name, text(x)]) : [[p.name, text(v)]])),
          { nil: [] as [string, string][], freq: 2 },
        ),
      );
    const content: Json | undefined = o.op.requestBody?.content;
    const bodySchema = content ? (Object.values(content)[0] as Json).schema : undefined;
    return fc.record({
      params: fc.record(pathArbs) as fc.Arbitrary<Record<string, string>>,
      query: fc.tuple(...queryArbs).map((qs) => qs.flat()),
      body: content ? arbs.value(bodySchema) : fc.constant(undefined),
      hasBody: fc.constant(!!content),
    });
  }

  /** A lone surrogate has no UTF-8 form; a URL carries U+FFFD for it, as a browser would send. */
  const enc = (v: string) => encodeURIComponent(v.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '');

  it('answers every generated request without a 5xx and as the document says', async () => {
    expect(operations.length).toBeGreaterThan(40);
    const arbs = new SchemaArbitraries(doc, knownValues());
    const findings: Finding[] = [];
    let sent = 0;
    const timings: [string, number][] = [];
    for (const [index, o] of operations.entries()) {
      const started = Date.now();
      const validator = new OpenAPIResponseValidator({ responses: o.op.responses, components: doc.components });
      const requests = fc.sample(requestArbitrary(arbs, o), { seed: SEED + index, numRuns: RUNS * ROLES.length });
      for (const [i, g] of requests.entries()) {
        const role = ROLES[i % ROLES.length];
        const path = o.path.replace(/\{([^}]+)\}/g, (_, name: string) => g.params[name] ?? 'x');
        const search = g.query.length ? `?${g.query.map(([k, v]) => `${k}=${enc(v)}`).join('&')}` : '';
        const csv = o.op.requestBody?.content?.['text/csv'];
        const res = await api.request(o.method.toUpperCase(), path + search, {
          token: tokens[role],
          ...(g.hasBody ? (csv ? { raw: { contentType: 'text/csv', data: typeof g.body === 'string' ? g.body : text(g.body) } } : { body: g.body }) : {}),
        });
        sent++;
        const operation = `${o.method.toUpperCase()} ${o.path}`;
        const request = `${o.method.toUpperCase()} ${(path + search).slice(0, 200)} ${g.hasBody ? JSON.stringify(g.body)?.slice(0, 200) : ''}`;
        if (res.status >= 500) {
          findings.push({ operation, role, request, status: res.status, problem: `server error: ${JSON.stringify(res.body).slice(0, 200)}` });
          continue;
        }
        // Node's HTTP parser answers these itself, before any of our code, for URLs over its header limit.
        if (res.status === 431 || res.status === 414) continue;
        // A non-JSON answer (CSV) must be a media type the document declares for this status; its schema is JSON's.
        const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
        if (type && !type.includes('json')) {
          const declared = (o.op.responses?.[res.status] ?? o.op.responses?.default)?.content ?? {};
          if (!declared[type]) findings.push({ operation, role, request, status: res.status, problem: `answered ${type}, not declared for ${res.status}` });
          continue;
        }
        const body = res.status === 204 ? undefined : res.body;
        const errors = validator.validateResponse(res.status, body);
        if (errors) findings.push({ operation, role, request, status: res.status, problem: `schema: ${JSON.stringify(errors.errors).slice(0, 300)}` });
      }
      await heal();
      timings.push([`${o.method.toUpperCase()} ${o.path}`, Date.now() - started]);
    }
    console.log(timings.sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, ms]) => `${ms} ms ${k}`).join('\n'));
    // One line per operation and problem, so a regression reads as a list, not as thousands of requests.
    const distinct = new Map<string, Finding>();
    for (const f of findings) distinct.set(`${f.operation} ${f.status} ${f.problem.slice(0, 60)}`, f);
    console.log(`fuzz: ${sent} requests over ${operations.length} operations, ${findings.length} findings`);
    expect([...distinct.values()].map((f) => `${f.operation} as ${f.role} → ${f.status} ${f.problem}\n    ${f.request}`)).toEqual([]);
  }, 600_000);

  it('answers NUL anywhere with 400 naming the field (the cases from the report)', async () => {
    const user = tokens.user!;
    const admin = tokens.tenant_admin!;
    const cases: [string, string, { token?: string; body?: unknown }, string][] = [
      ['POST', '/api/auth/login', { body: { username: 'a\u0000b', password: 'whatever-123' } }, 'username'],
      ['POST', '/api/auth/operator/login', { body: { username: 'op', password: 'a\u0000b' } }, 'password'],
      ['GET', '/api/mailboxes?q=%00', { token: admin }, 'q'],
      ['GET', '/api/logs/mail?q=%00', { token: tokens.operator }, 'q'],
      ['GET', '/api/audit?q=%00', { token: admin }, 'q'],
      ['GET', '/api/mailboxes/%00', { token: admin }, 'mailbox'],
      ['GET', `/api/mailboxes/${encodeURIComponent(world.mailboxes.user.address)}%00`, { token: user }, 'mailbox'],
      ['PATCH', `/api/mailboxes/${world.mailboxes.user.id}`, { token: admin, body: { displayName: 'x\u0000' } }, 'displayName'],
      ['GET', '/api/domains/%00', { token: admin }, 'domain'],
    ];
    for (const [method, path, options, field] of cases) {
      const res = await api.request(method, path, options);
      expect({ method, path, status: res.status, field: res.body?.field }).toEqual({ method, path, status: 400, field });
    }
  });
});
