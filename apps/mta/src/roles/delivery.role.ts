import type { MtaContext } from '../context';
import type { RunningRole } from './role';

/** Not built yet: the node says so and carries on with its other roles. */
export async function startDeliveryRole(ctx: MtaContext): Promise<RunningRole> {
  ctx.logger.warn({ role: 'delivery' }, 'role delivery is not available in this build yet');
  return { name: 'delivery', stop: async () => undefined };
}
