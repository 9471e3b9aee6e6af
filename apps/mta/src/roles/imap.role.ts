import type { MtaContext } from '../context';
import type { RunningRole } from './role';

/** Not built yet: the node says so and carries on with its other roles. */
export async function startImapRole(ctx: MtaContext): Promise<RunningRole> {
  ctx.logger.warn({ role: 'imap' }, 'role imap is not available in this build yet');
  return { name: 'imap', stop: async () => undefined };
}
