import type { MtaContext } from '../context';
import type { RunningRole } from './role';

/** Not built yet: the node says so and carries on with its other roles. */
export async function startPop3Role(ctx: MtaContext): Promise<RunningRole> {
  ctx.logger.warn({ role: 'pop3' }, 'role pop3 is not available in this build yet');
  return { name: 'pop3', stop: async () => undefined };
}
