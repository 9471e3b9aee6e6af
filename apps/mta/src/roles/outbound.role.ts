import type { MtaContext } from '../context';
import type { RunningRole } from './role';

/** Not built yet: the node says so and carries on with its other roles. */
export async function startOutboundRole(ctx: MtaContext): Promise<RunningRole> {
  ctx.logger.warn({ role: 'outbound' }, 'role outbound is not available in this build yet');
  return { name: 'outbound', stop: async () => undefined };
}
