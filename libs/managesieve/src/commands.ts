/**
 * The ManageSieve commands (RFC 5804 §2), one entry each: the states it is allowed in, how many arguments of which
 * kind it takes, and its handler. The session (session.ts) checks state and arguments before a handler runs.
 * Reply texts follow Dovecot Pigeonhole's where a client could show them.
 */
import { DEFAULT_EXTENSIONS } from '@dizi/sieve/extensions';
import { checkSieve } from '@dizi/sieve/sieve';
import type { Argument } from './command-parser';
import { ScriptStoreError } from './ports';
import { sieveString, statusLine } from './response';
import type { Session } from './session';

export type SessionState = 'nonauth' | 'auth';

export interface CommandSpec {
  states: SessionState[];
  /** Argument kinds in order; a trailing `?` entry is optional. */
  args: Array<'string' | 'number' | 'string?'>;
  run(session: Session, args: Argument[]): Promise<void>;
}

const text = (a: Argument | undefined): string => (a ? (a.kind === 'string' ? a.value.toString('utf8') : a.value) : '');

/** RFC 5804 §1.6: UTF-8, no control characters, no line or paragraph separators; at most 255 octets here. */
export function validScriptName(raw: Argument): string | null {
  if (raw.kind !== 'string') return null;
  const name = raw.value.toString('utf8');
  if (name.length === 0 || raw.value.length > 255 || Buffer.from(name, 'utf8').compare(raw.value) !== 0) return null;
  for (const ch of name) {
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return null;
  }
  return name;
}

/** The SIEVE capability: what a user's script may require (editheader is for admin scripts only). */
export const SIEVE_CAPABILITY = DEFAULT_EXTENSIONS.join(' ');

function storeFailure(session: Session, err: unknown): boolean {
  if (!(err instanceof ScriptStoreError)) return false;
  session.write(statusLine('NO', err.message, err.code));
  return true;
}

async function checkScript(session: Session, name: string | null, content: Buffer): Promise<boolean> {
  const limits = session.limits();
  if (content.length > limits.maxScriptSize) {
    session.write(statusLine('NO', `Script is too large (max ${limits.maxScriptSize} bytes).`, 'QUOTA/MAXSIZE'));
    return false;
  }
  if (name !== null) {
    const scripts = await session.store.list(session.mailboxId!);
    if (!scripts.some((s) => s.name === name) && scripts.length >= limits.maxScripts) {
      session.write(statusLine('NO', `Too many scripts (max ${limits.maxScripts}).`, 'QUOTA/MAXSCRIPTS'));
      return false;
    }
  }
  const script = content.toString('utf8');
  if (Buffer.from(script, 'utf8').compare(content) !== 0) {
    session.write(statusLine('NO', 'The script is not valid UTF-8.'));
    return false;
  }
  const error = checkSieve(script, { extensions: DEFAULT_EXTENSIONS, limits: { maxScriptSize: limits.maxScriptSize, maxRedirects: limits.maxRedirects } });
  if (error) {
    session.write(statusLine('NO', error));
    return false;
  }
  return true;
}

export const COMMANDS: Record<string, CommandSpec> = {
  CAPABILITY: {
    states: ['nonauth', 'auth'],
    args: [],
    async run(session) {
      session.write(session.capabilities() + statusLine('OK', 'Capability completed.'));
    },
  },
  NOOP: {
    states: ['nonauth', 'auth'],
    args: ['string?'],
    async run(session, args) {
      session.write(args.length > 0 ? `OK (TAG ${sieveString(text(args[0]))}) "Done"\r\n` : statusLine('OK', 'NOOP completed.'));
    },
  },
  LOGOUT: {
    states: ['nonauth', 'auth'],
    args: [],
    async run(session) {
      session.write(statusLine('OK', 'Logout completed.'));
      session.end();
    },
  },
  STARTTLS: {
    states: ['nonauth'],
    args: [],
    async run(session) {
      await session.startTls();
    },
  },
  AUTHENTICATE: {
    states: ['nonauth'],
    args: ['string', 'string?'],
    async run(session, args) {
      await session.authenticate(text(args[0]), args[1] ? text(args[1]) : null);
    },
  },
  UNAUTHENTICATE: {
    states: ['auth'],
    args: [],
    async run(session) {
      session.unauthenticate();
      session.write(statusLine('OK', 'Unauthenticate completed.'));
    },
  },
  LISTSCRIPTS: {
    states: ['auth'],
    args: [],
    async run(session) {
      const scripts = await session.store.list(session.mailboxId!);
      session.write(scripts.map((s) => `${sieveString(s.name)}${s.active ? ' ACTIVE' : ''}\r\n`).join('') + statusLine('OK', 'Listscripts completed.'));
    },
  },
  GETSCRIPT: {
    states: ['auth'],
    args: ['string'],
    async run(session, args) {
      const name = validScriptName(args[0]);
      if (name === null) return session.write(statusLine('NO', 'Invalid script name.'));
      const content = await session.store.get(session.mailboxId!, name);
      if (content === null) return session.write(statusLine('NO', `Script "${name}" does not exist.`, 'NONEXISTENT'));
      session.write(`{${Buffer.byteLength(content, 'utf8')}}\r\n${content}\r\n${statusLine('OK', 'Getscript completed.')}`);
    },
  },
  PUTSCRIPT: {
    states: ['auth'],
    args: ['string', 'string'],
    async run(session, args) {
      const name = validScriptName(args[0]);
      if (name === null) return session.write(statusLine('NO', 'Invalid script name.'));
      const content = (args[1] as Extract<Argument, { kind: 'string' }>).value;
      if (!(await checkScript(session, name, content))) return;
      await session.store.put(session.mailboxId!, name, content.toString('utf8'));
      session.write(statusLine('OK', 'PUTSCRIPT completed.'));
    },
  },
  CHECKSCRIPT: {
    states: ['auth'],
    args: ['string'],
    async run(session, args) {
      if (!(await checkScript(session, null, (args[0] as Extract<Argument, { kind: 'string' }>).value))) return;
      session.write(statusLine('OK', 'Script checked successfully.'));
    },
  },
  HAVESPACE: {
    states: ['auth'],
    args: ['string', 'number'],
    async run(session, args) {
      const name = validScriptName(args[0]);
      if (name === null) return session.write(statusLine('NO', 'Invalid script name.'));
      const size = Number(text(args[1]));
      const limits = session.limits();
      if (size > limits.maxScriptSize) return session.write(statusLine('NO', `Script is too large (max ${limits.maxScriptSize} bytes).`, 'QUOTA/MAXSIZE'));
      const scripts = await session.store.list(session.mailboxId!);
      if (!scripts.some((s) => s.name === name) && scripts.length >= limits.maxScripts) {
        return session.write(statusLine('NO', `Too many scripts (max ${limits.maxScripts}).`, 'QUOTA/MAXSCRIPTS'));
      }
      session.write(statusLine('OK', 'Putscript would succeed.'));
    },
  },
  SETACTIVE: {
    states: ['auth'],
    args: ['string'],
    async run(session, args) {
      const raw = args[0];
      if (raw.kind === 'string' && raw.value.length === 0) {
        await session.store.setActive(session.mailboxId!, null);
        return session.write(statusLine('OK', 'Active script is now deactivated.'));
      }
      const name = validScriptName(raw);
      if (name === null) return session.write(statusLine('NO', 'Invalid script name.'));
      try {
        await session.store.setActive(session.mailboxId!, name);
      } catch (err) {
        if (storeFailure(session, err)) return;
        throw err;
      }
      session.write(statusLine('OK', 'Setactive completed.'));
    },
  },
  DELETESCRIPT: {
    states: ['auth'],
    args: ['string'],
    async run(session, args) {
      const name = validScriptName(args[0]);
      if (name === null) return session.write(statusLine('NO', 'Invalid script name.'));
      try {
        await session.store.delete(session.mailboxId!, name);
      } catch (err) {
        if (storeFailure(session, err)) return;
        throw err;
      }
      session.write(statusLine('OK', 'Deletescript completed.'));
    },
  },
  RENAMESCRIPT: {
    states: ['auth'],
    args: ['string', 'string'],
    async run(session, args) {
      const from = validScriptName(args[0]);
      const to = validScriptName(args[1]);
      if (from === null || to === null) return session.write(statusLine('NO', 'Invalid script name.'));
      try {
        await session.store.rename(session.mailboxId!, from, to);
      } catch (err) {
        if (storeFailure(session, err)) return;
        throw err;
      }
      session.write(statusLine('OK', 'Renamescript completed.'));
    },
  },
};
