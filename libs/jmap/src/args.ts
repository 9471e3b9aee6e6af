/** Argument checks shared by the methods: a wrong type is `invalidArguments` naming the argument. */
import { MethodError } from './errors';
import type { Args, MethodContext } from './method';

export function optionalString(args: Args, name: string): string | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new MethodError('invalidArguments', `${name} must be a string`);
  return v;
}

export function optionalBoolean(args: Args, name: string, fallback: boolean): boolean {
  const v = args[name];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new MethodError('invalidArguments', `${name} must be true or false`);
  return v;
}

/** UnsignedInt (0 ≤ n ≤ 2^53-1) or absent. */
export function optionalUnsigned(args: Args, name: string): number | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new MethodError('invalidArguments', `${name} must be an unsigned integer`);
  return v;
}

export function optionalInt(args: Args, name: string): number | undefined {
  const v = args[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new MethodError('invalidArguments', `${name} must be an integer`);
  return v;
}

export function optionalStringList(args: Args, name: string): string[] | null {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new MethodError('invalidArguments', `${name} must be a list of strings`);
  return v as string[];
}

export function optionalObject(args: Args, name: string): Record<string, unknown> | null {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new MethodError('invalidArguments', `${name} must be an object`);
  return v as Record<string, unknown>;
}

export function requiredString(args: Args, name: string): string {
  const v = optionalString(args, name);
  if (v === undefined) throw new MethodError('invalidArguments', `${name} is required`);
  return v;
}

/** Every method names its account; this server has one per user. */
export function checkAccount(args: Args, ctx: MethodContext): void {
  const id = requiredString(args, 'accountId');
  if (id !== ctx.account.accountId) throw new MethodError('accountNotFound', `no account ${id} for this user`);
}

/** A `properties` list checked against what the type has; null means the defaults. */
export function propertiesOf(args: Args, known: readonly string[], defaults: readonly string[], allow?: (p: string) => boolean): string[] {
  const asked = optionalStringList(args, 'properties');
  if (!asked) return [...defaults];
  const bad = asked.filter((p) => !known.includes(p) && !allow?.(p));
  if (bad.length > 0) throw new MethodError('invalidArguments', `unknown properties: ${bad.join(', ')}`, { arguments: ['properties'] });
  return asked.includes('id') ? asked : ['id', ...asked];
}

/** The ids of a /get: a list (with creation-id references resolved) or null for all; at most maxObjectsInGet. */
export function idsOf(args: Args, ctx: MethodContext): string[] | null {
  const ids = optionalStringList(args, 'ids');
  if (!ids) return null;
  if (ids.length > ctx.limits.maxObjectsInGet) {
    throw new MethodError('requestTooLarge', `at most ${ctx.limits.maxObjectsInGet} ids in one /get (maxObjectsInGet)`);
  }
  return ids.map((id) => resolveId(id, ctx));
}

/** `#creationId` names a record created earlier in the same request. */
export function resolveId(id: string, ctx: MethodContext): string {
  return id.startsWith('#') ? ctx.createdIds.get(id.slice(1)) ?? id : id;
}
