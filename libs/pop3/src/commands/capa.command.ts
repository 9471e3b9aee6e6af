import { capabilities } from '../capabilities';
import { defineCommand } from '../command';

/** RFC 2449 §5. */
export const capaCommand = defineCommand({
  name: 'CAPA',
  states: ['authorization', 'transaction'],
  args: [],
  async handle(session) {
    session.writeLines('Capability list follows', ['CAPA', ...capabilities(session)]);
  },
});
