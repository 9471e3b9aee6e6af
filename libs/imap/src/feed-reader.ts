// Connects a byte source (socket, TLS socket, inflate stream) to a session's reader.
import type { Session } from './session';

/** Attaches the reader to a socket's data; returns the detach function (STARTTLS and COMPRESS swap the source). */
export function feedReader(session: Session, source: NodeJS.ReadableStream): () => void {
  const onData = (chunk: Buffer) => session.reader.push(chunk);
  const onEnd = () => session.reader.close();
  source.on('data', onData);
  source.on('end', onEnd);
  source.on('close', onEnd);
  return () => {
    source.off('data', onData);
    source.off('end', onEnd);
    source.off('close', onEnd);
  };
}

