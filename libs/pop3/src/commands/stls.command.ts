import { defineCommand } from '../command';
import { refuse } from '../pop3-error';

/** RFC 2595 §4: the socket becomes TLS after the +OK; what the client sent before the handshake is dropped. */
export const stlsCommand = defineCommand({
  name: 'STLS',
  states: ['authorization'],
  args: [],
  async handle(session) {
    const startTls = session.services.startTls;
    if (session.secure) throw refuse('The connection is already using TLS');
    if (!startTls) throw refuse('STLS is not available on this server');
    session.afterResponse = async () => {
      session.detachInput?.();
      session.reader.discardBuffered();
      session.socket = await startTls(session.socket);
      session.secure = true;
      session.attachInput(session.socket);
    };
    return 'Begin TLS negotiation';
  },
});
