import { createDeflateRaw, createInflateRaw } from 'node:zlib';
import { AUTHENTICATED, defineCommand } from '../command';
import { bad, no } from '../imap-error';
import { feedReader } from '../feed-reader';

/** RFC 4978: raw DEFLATE both ways from the byte after the tagged OK. */
export const compressCommand = defineCommand({
  name: 'COMPRESS',
  states: AUTHENTICATED,
  args: ['atom'],
  async handle({ session }, [mechanism]) {
    if ((mechanism as string).toUpperCase() !== 'DEFLATE') throw bad('Only DEFLATE is supported');
    if (session.compressed) throw no('Compression is already active', 'COMPRESSIONACTIVE');
    session.detachInput?.();
    session.afterResponse = async () => {
      const deflate = createDeflateRaw();
      deflate.pipe(session.socket);
      session.enableCompression(deflate);
      const inflate = createInflateRaw();
      inflate.on('error', () => session.socket.destroy());
      session.socket.pipe(inflate);
      // pipe() ends the inflater only on the socket's clean end: a reset or a destroyed socket must end the session too.
      session.socket.once('close', () => inflate.destroy());
      session.detachInput = feedReader(session, inflate);
    };
    return 'DEFLATE active';
  },
});
