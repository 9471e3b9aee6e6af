import { defineCommand } from '../command';
import { bad } from '../imap-error';
import { feedReader } from '../feed-reader';

export const starttlsCommand = defineCommand({
  name: 'STARTTLS',
  states: ['not-authenticated'],
  args: [],
  async handle({ session }) {
    const startTls = session.services.startTls;
    if (!startTls || session.secure) throw bad('STARTTLS is not available');
    // Anything pipelined after STARTTLS was sent in clear text and must not be trusted (RFC 3501 §11.1).
    if (session.reader.pending > 0) throw bad('Data after STARTTLS');
    session.detachInput?.();
    session.afterResponse = async () => {
      const secure = await startTls(session.socket);
      session.replaceSocket(secure);
      session.detachInput = feedReader(session, secure);
    };
    return 'Begin TLS negotiation now';
  },
});
