import type { MtaContext } from '../context';
import type { RunningRole } from './role';

/** Not built yet: the node says so and carries on with its other roles. */
export async function startSmtpRole(ctx: MtaContext): Promise<RunningRole> {
  ctx.logger.warn({ role: 'smtp' }, 'role smtp is not available in this build yet');
  return { name: 'smtp', stop: async () => undefined };
}
