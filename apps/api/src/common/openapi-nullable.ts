/**
 * zod 4 writes a nullable primitive as `type: ['string', 'null']`; @nestjs/swagger reads an array in
 * `type` as "array of", so `updatedAt: string | null` was documented as an array of strings (found
 * by the fuzz harness: every such response broke the document). Before the document is built, the
 * metadata of every DTO a route names is rewritten to OpenAPI 3.0's `nullable: true`.
 */
import type { INestApplication } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';

const FACTORY = '_OPENAPI_METADATA_FACTORY';
const REWRITTEN = Symbol('dizi:nullable-rewritten');
/** Where @nestjs/swagger keeps response types, and TypeScript the parameter types. */
const RESPONSES = 'swagger/apiResponse';
const PARAM_TYPES = 'design:paramtypes';

type Factory = (() => unknown) & { [REWRITTEN]?: true };

function toNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toNullable);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = key === 'type' ? value : toNullable(value);
  const type = out.type;
  if (Array.isArray(type) && type.includes('null')) {
    const rest = type.filter((t) => t !== 'null');
    if (rest.length === 1) {
      out.type = rest[0];
      out.nullable = true;
    }
  }
  return out;
}

function rewrite(cls: unknown): void {
  for (let c = cls as Record<string, unknown> | null; typeof c === 'function' && c !== Function.prototype; c = Reflect.getPrototypeOf(c) as typeof c) {
    const factory = c[FACTORY] as Factory | undefined;
    if (typeof factory !== 'function' || factory[REWRITTEN]) continue;
    const owner = c;
    const rewritten: Factory = () => toNullable(factory.call(owner));
    rewritten[REWRITTEN] = true;
    Object.defineProperty(c, FACTORY, { value: rewritten, configurable: true });
  }
}

export function documentNullablesAsOpenApi30(app: INestApplication): void {
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const proto = (wrapper.metatype as { prototype?: Record<string, unknown> } | undefined)?.prototype;
      if (!proto) continue;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const fn = proto[name];
        if (name === 'constructor' || typeof fn !== 'function') continue;
        const responses = (Reflect.getMetadata(RESPONSES, fn) ?? {}) as Record<string, { type?: unknown }>;
        for (const r of Object.values(responses)) rewrite(Array.isArray(r.type) ? r.type[0] : r.type);
        for (const t of (Reflect.getMetadata(PARAM_TYPES, proto, name) ?? []) as unknown[]) rewrite(t);
      }
    }
  }
}
