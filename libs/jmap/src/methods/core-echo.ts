/** Core/echo (RFC 8620 §4): answers its arguments unchanged. */
import { CORE } from '../capabilities';
import type { JmapMethod } from '../method';

export const coreEcho: JmapMethod = {
  name: 'Core/echo',
  capability: CORE,
  run: async (args) => args,
};
