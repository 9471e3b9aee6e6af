import type { MtaContext } from '../context';
import type { RunningRole } from './role';

/** Not built yet: the node says so and carries on with its other roles. */
export async function startSchedulerRole(ctx: MtaContext): Promise<RunningRole> {
  ctx.logger.warn({ role: 'scheduler' }, 'role scheduler is not available in this build yet');
  return { name: 'scheduler', stop: async () => undefined };
}
