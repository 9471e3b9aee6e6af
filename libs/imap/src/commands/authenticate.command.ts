import { defineCommand } from '../command';
import { bad, no } from '../imap-error';
import { logIn } from './login.command';

/** SASL PLAIN (RFC 4616), with the initial response on the command line (SASL-IR) or after a continuation. */
export const authenticateCommand = defineCommand({
  name: 'AUTHENTICATE',
  states: ['not-authenticated'],
  args: ['atom', 'astring?'],
  async handle({ session }, [mechanism, initial]) {
    if ((mechanism as string).toUpperCase() !== 'PLAIN') throw no('Only AUTHENTICATE PLAIN is supported', 'CANNOT');
    if (!session.secure && !session.settings.allowInsecureAuth) throw no('Authenticate after STARTTLS', 'PRIVACYREQUIRED');
    let response = initial as string | undefined;
    if (response === undefined) {
      session.write('+ \r\n');
      session.uncork();
      session.cork();
      const line = await session.reader.readLine(session.settings.maxLineBytes);
      if (!line.ok) {
        // Answered at once; the rest of the line is dropped after the answer (server.ts).
        if (!line.ended) session.restOfLinePending = true;
        throw bad('Authentication response too long');
      }
      response = line.line.toString('latin1');
    }
    if (response === '*') throw bad('Authentication cancelled');
    if (response === '=') response = '';
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(response)) throw bad('Invalid base64');
    const parts = Buffer.from(response, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3) throw bad('Invalid PLAIN response');
    const [authzid, authcid, password] = parts;
    if (authzid && authzid !== authcid) throw no('Authorization identity must be empty or equal the login', 'AUTHORIZATIONFAILED');
    return logIn(session, authcid, password);
  },
});
