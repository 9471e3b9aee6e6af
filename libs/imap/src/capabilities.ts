// The capability list, which depends on the session's state (TLS, login, compression).
import type { Session } from './session';

/** What the server announces; LOGINDISABLED and STARTTLS only before TLS, AUTH=PLAIN only when it may be used. */
export function capabilities(session: Session): string[] {
  const caps = ['IMAP4rev1', 'IMAP4rev2'];
  const loginAllowed = session.secure || session.settings.allowInsecureAuth;
  if (session.state === 'not-authenticated') {
    if (!session.secure && session.services.startTls) caps.push('STARTTLS');
    if (loginAllowed) caps.push('AUTH=PLAIN', 'SASL-IR');
    else caps.push('LOGINDISABLED');
  }
  caps.push(
    'LITERAL+', 'ID', 'ENABLE', 'IDLE', 'NAMESPACE', 'UIDPLUS', 'MOVE', 'UNSELECT', 'CHILDREN', 'SPECIAL-USE',
    'LIST-EXTENDED', 'LIST-STATUS', 'CONDSTORE', 'QRESYNC', 'ESEARCH', 'SEARCHRES', 'SORT', 'SORT=DISPLAY',
    'THREAD=REFERENCES', 'THREAD=ORDEREDSUBJECT', 'BINARY', 'UTF8=ACCEPT', 'QUOTA', 'QUOTA=RES-STORAGE',
    `APPENDLIMIT=${session.settings.maxAppendBytes}`, 'STATUS=SIZE',
  );
  if (!session.compressed && session.state !== 'not-authenticated') caps.push('COMPRESS=DEFLATE');
  return caps;
}
