/** The shape of a /set call (RFC 8620 §5.3): ifInState, create, update, destroy, with maxObjectsInSet. */
import { optionalObject, optionalString, optionalStringList } from './args';
import { MethodError } from './errors';
import type { Args, MethodContext } from './method';

export interface SetRequest {
  ifInState?: string;
  create: Array<[string, Record<string, unknown>]>;
  update: Array<[string, Record<string, unknown>]>;
  destroy: string[];
}

export function parseSetRequest(args: Args, ctx: MethodContext): SetRequest {
  const create = Object.entries(optionalObject(args, 'create') ?? {});
  const update = Object.entries(optionalObject(args, 'update') ?? {});
  const destroy = optionalStringList(args, 'destroy') ?? [];
  for (const [key, value] of [...create, ...update]) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MethodError('invalidArguments', `${key}: a record must be an object`);
  }
  if (create.length + update.length + destroy.length > ctx.limits.maxObjectsInSet) {
    throw new MethodError('requestTooLarge', `at most ${ctx.limits.maxObjectsInSet} records in one /set (maxObjectsInSet)`);
  }
  return {
    ifInState: optionalString(args, 'ifInState'),
    create: create as Array<[string, Record<string, unknown>]>,
    update: update as Array<[string, Record<string, unknown>]>,
    destroy,
  };
}
