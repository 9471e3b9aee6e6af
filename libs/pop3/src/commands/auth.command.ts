import { defineCommand } from '../command';
import { badCommand, refuse } from '../pop3-error';

/** RFC 5034 AUTH with SASL PLAIN (RFC 4616), with or without an initial response; bare AUTH lists mechanisms. */
export const authCommand = defineCommand({
  name: 'AUTH',
  states: ['authorization'],
  args: ['word?', 'word?'],
  carriesCredentials: true,
  async handle(session, [mechanism, initial]) {
    if (mechanism === undefined) {
      session.writeLines('Supported mechanisms follow', ['PLAIN']);
      return;
    }
    if ((mechanism as string).toUpperCase() !== 'PLAIN') throw refuse(`Mechanism ${(mechanism as string).slice(0, 20)} is not supported; use PLAIN`);
    let response = initial as string | undefined;
    if (response === undefined) {
      session.write('+ \r\n');
      const line = await session.reader.readLine();
      if (line.kind === 'closed') throw refuse('Connection closed during authentication');
      if (line.kind === 'too-long') throw badCommand('Authentication response is too long');
      response = line.text.trim();
    }
    if (response === '*') throw refuse('Authentication cancelled');
    const credentials = decodePlain(response === '=' ? '' : response);
    if (!credentials) throw refuse('Malformed SASL PLAIN response', 'AUTH');
    await session.login(credentials.username, credentials.password);
    const { count, octets } = session.maildrop!.totals();
    return `Logged in, ${count} messages (${octets} octets)`;
  },
});

/** authzid NUL authcid NUL password; an authorisation identity other than the user's own is not supported. */
function decodePlain(base64: string): { username: string; password: string } | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return null;
  const parts = Buffer.from(base64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return null;
  const [authzid, username, password] = parts;
  if (!username || (authzid && authzid !== username)) return null;
  return { username, password };
}
