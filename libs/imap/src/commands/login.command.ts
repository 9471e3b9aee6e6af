import { defineCommand } from '../command';
import { no } from '../imap-error';
import { capabilities } from '../capabilities';
import type { Session } from '../session';

/** Shared by LOGIN and AUTHENTICATE PLAIN. */
export async function logIn(session: Session, username: string, password: string): Promise<string> {
  if (!session.secure && !session.settings.allowInsecureAuth) throw no('Log in after STARTTLS', 'PRIVACYREQUIRED');
  const verdict = await session.services.authenticator.login({ username, password, remoteAddress: session.remoteAddress, secure: session.secure });
  if (!verdict.ok) throw no(verdict.text, verdict.code);
  await session.authenticated(verdict.mailboxId, verdict.username);
  return `[CAPABILITY ${capabilities(session).join(' ')}] Logged in`;
}

export const loginCommand = defineCommand({
  name: 'LOGIN',
  states: ['not-authenticated'],
  args: ['astring', 'astring'],
  async handle({ session }, [username, password]) {
    return logIn(session, username as string, password as string);
  },
});
