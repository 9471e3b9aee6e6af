/** The OpenAPI document lists every endpoint Nest mapped, with its request and response schemas. */
import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, TestApi } from './harness';

type Json = Record<string, any>;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

interface Handler {
  operation: string;
  hasBody: boolean;
  params: string[];
}

/** Every controller method Nest knows, read from the same decorators its router reads. */
function handlers(api: TestApi): Handler[] {
  const out: Handler[] = [];
  const join = (...parts: string[]) => `/${parts.map((p) => p.replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`;
  for (const module of api.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const cls = wrapper.metatype as (new (...args: unknown[]) => unknown) | undefined;
      if (!cls) continue;
      const base: string = Reflect.getMetadata(PATH_METADATA, cls) ?? '';
      for (const name of Object.getOwnPropertyNames(cls.prototype)) {
        const fn = cls.prototype[name];
        if (name === 'constructor' || typeof fn !== 'function') continue;
        const path: string | undefined = Reflect.getMetadata(PATH_METADATA, fn);
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod].toLowerCase();
        const args: Record<string, { data?: string }> = Reflect.getMetadata(ROUTE_ARGS_METADATA, cls, name) ?? {};
        const kinds = Object.entries(args).map(([key, v]) => ({ type: Number(key.split(':')[0]), data: v.data }));
        out.push({
          operation: `${method} ${join('api', base, path).replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`,
          hasBody: kinds.some((k) => k.type === RouteParamtypes.BODY),
          params: kinds.filter((k) => k.type === RouteParamtypes.PARAM && k.data).map((k) => k.data!),
        });
      }
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  let api: TestApi;
  let doc: Json;
  const operations: { key: string; op: Json }[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    const res = await fetch(`${api.url}/api/docs-json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Json;
    for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
      for (const [method, op] of Object.entries(item)) if (METHODS.includes(method)) operations.push({ key: `${method} ${path}`, op });
    }
  });
  afterAll(() => api?.close());

  const resolve = (s: Json | undefined): Json | undefined => (s?.$ref ? doc.components.schemas[s.$ref.split('/').pop()] : s);
  /** The schema of a body in whatever media type it is documented (JSON, CSV, ...). */
  const schemaOf = (content: Json | undefined): Json | undefined => resolve(Object.values(content ?? {}).find((m: Json) => m.schema)?.schema);

  it('is served over HTTP and is the document the app was built with', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(Object.keys(api.openApi.paths).sort());
    expect(operations.length).toBeGreaterThan(15);
  });

  it('gives every operation a 2xx response with a content schema, or a 204', () => {
    const missing = operations.filter(({ op }) => {
      const ok = Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
      return !ok.some(([code, r]) => code === '204' || !!schemaOf((r as Json).content));
    });
    expect(missing.map(({ key, op }) => `${key} (responses: ${Object.keys(op.responses ?? {}).join(', ')})`)).toEqual([]);
  });

  it('gives every response schema its properties', () => {
    const empty = operations.flatMap(({ key, op }) =>
      Object.entries(op.responses ?? {})
        .filter(([code]) => code !== '204')
        .filter(([, r]) => {
          const s = schemaOf((r as Json).content);
          return s && s.type === 'object' && !s.properties;
        })
        .map(([code]) => `${key} ${code}`),
    );
    expect(empty).toEqual([]);
  });

  it('documents a request body schema for every operation that reads a body', () => {
    const byKey = new Map(operations.map((o) => [o.key, o.op]));
    const missing = handlers(api)
      .filter((h) => h.hasBody)
      .filter((h) => {
        const schema = schemaOf(byKey.get(h.operation)?.requestBody?.content);
        return !schema || (schema.type === 'object' && !schema.properties);
      })
      .map((h) => h.operation);
    expect(missing).toEqual([]);
    for (const { key, op } of operations) if (op.requestBody) expect(schemaOf(op.requestBody.content), key).toBeTruthy();
  });

  it('documents every path parameter', () => {
    const missing: string[] = [];
    for (const { key, op } of operations) {
      const names = [...key.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const documented = (op.parameters ?? []).filter((p: Json) => p.in === 'path' && p.required).map((p: Json) => p.name);
      for (const n of names) if (!documented.includes(n)) missing.push(`${key}: {${n}}`);
    }
    for (const h of handlers(api)) for (const p of h.params) if (!h.operation.includes(`{${p}}`)) missing.push(`${h.operation}: @Param('${p}') is not in the path`);
    expect(missing).toEqual([]);
  });

  it('lists every route the Express router serves, and nothing it does not', () => {
    const instance = api.app.getHttpAdapter().getInstance();
    const router = instance.router ?? instance._router;
    const routes = new Set<string>();
    for (const layer of router.stack as Json[]) {
      if (!layer.route || !layer.route.path.startsWith('/api/') || layer.route.path.startsWith('/api/docs')) continue;
      for (const m of Object.keys(layer.route.methods)) if (METHODS.includes(m)) routes.add(`${m} ${layer.route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
    const documented = new Set(operations.map((o) => o.key));
    expect([...routes].filter((r) => !documented.has(r)), 'routes missing from the document').toEqual([]);
    expect([...documented].filter((r) => !routes.has(r)), 'documented operations no route serves').toEqual([]);
    const fromHandlers = new Set(handlers(api).map((h) => h.operation));
    expect([...routes].filter((r) => !fromHandlers.has(r))).toEqual([]);
    expect(routes.size).toBe(documented.size);
  });
});
