/**
 * One ManageSieve connection (RFC 5804): greeting with the capabilities, the command loop with state and argument
 * checks, STARTTLS (capabilities again afterwards, §2.2), SASL PLAIN (§2.1; only over TLS unless allowed), timeouts.
 */
import type { Socket } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import { parseCommand, type Argument } from './command-parser';
import { COMMANDS, SIEVE_CAPABILITY, type SessionState } from './commands';
import type { ManageSieveAuthenticator, ManageSieveLimits, ManageSieveStore } from './ports';
import { sieveString, statusLine } from './response';
import type { ManageSieveSettings } from './settings';

export interface SessionServices {
  store: ManageSieveStore;
  authenticator: ManageSieveAuthenticator;
  limits: () => ManageSieveLimits;
  settings: ManageSieveSettings;
  /** Set when STARTTLS is offered. */
  secureContext: SecureContext | null;
  /** Allows AUTHENTICATE PLAIN without TLS (tests, or a listener behind a TLS proxy). Default false. */
  allowPlaintextAuth: boolean;
  onLogin?: (event: { mailboxId: string; username: string; remoteAddress: string }) => void;
}

export class Session {
  state: SessionState = 'nonauth';
  mailboxId: string | null = null;
  username: string | null = null;
  readonly remoteAddress: string;
  private buf: Buffer = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private closed = false;
  private badCommands = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    public socket: Socket,
    private readonly services: SessionServices,
    public secure: boolean,
  ) {
    this.remoteAddress = socket.remoteAddress ?? '';
    this.attach(socket);
  }

  get store(): ManageSieveStore {
    return this.services.store;
  }

  limits(): ManageSieveLimits {
    return this.services.limits();
  }

  private attach(socket: Socket) {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', () => undefined);
  }

  private detach(socket: Socket) {
    socket.off('data', this.onData);
    socket.off('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer) => {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.wake();
  };

  private readonly onClose = () => {
    this.closed = true;
    this.wake();
  };

  private wake() {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  write(data: string): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(data);
  }

  end(): void {
    this.closed = true;
    this.socket.end();
    this.wake();
  }

  /** Ends the session from outside (the mailbox was suspended or its password changed). */
  kill(reason: string): void {
    this.write(statusLine('BYE', reason));
    this.end();
  }

  capabilities(): string {
    const s = this.services;
    const plainAllowed = this.secure || s.allowPlaintextAuth;
    const lines = [
      `"IMPLEMENTATION" ${sieveString(s.settings.implementation)}`,
      `"SASL" ${plainAllowed ? '"PLAIN"' : '""'}`,
      `"SIEVE" ${sieveString(SIEVE_CAPABILITY)}`,
      ...(s.secureContext && !this.secure ? ['"STARTTLS"'] : []),
      `"MAXREDIRECTS" "${this.limits().maxRedirects}"`,
      '"VERSION" "1.0"',
      '"UNAUTHENTICATE"',
    ];
    return lines.map((l) => `${l}\r\n`).join('');
  }

  private arm() {
    if (this.timer) clearTimeout(this.timer);
    const ms = this.state === 'auth' ? this.services.settings.idleTimeoutMs : this.services.settings.preLoginTimeoutMs;
    this.timer = setTimeout(() => this.kill('Disconnected for inactivity.'), ms);
    this.timer.unref();
  }

  /** The next command, or null when the connection is gone (or hopelessly out of step). */
  private async nextCommand(): Promise<{ name: string; args: Argument[] } | { error: string } | null> {
    const limits = { maxLineBytes: this.services.settings.maxLineBytes, maxLiteralBytes: this.services.settings.maxLiteralBytes };
    for (;;) {
      if (this.closed) return null;
      const r = parseCommand(this.buf, limits);
      if (r.kind === 'command') {
        this.buf = this.buf.subarray(r.consumed);
        return r.command;
      }
      if (r.kind === 'error') {
        if (r.consumed < 0) {
          this.kill(r.message);
          return null;
        }
        this.buf = this.buf.subarray(r.consumed);
        return { error: r.message };
      }
      await this.waitForData();
    }
  }

  async run(): Promise<void> {
    this.write(this.capabilities() + statusLine('OK', `${this.services.settings.implementation} ready.`));
    this.arm();
    for (;;) {
      const command = await this.nextCommand();
      if (!command) break;
      this.arm();
      if ('error' in command) {
        this.bad(`Error in MANAGESIEVE command: ${command.error}`);
        continue;
      }
      const spec = COMMANDS[command.name];
      if (!spec) {
        this.bad(`Error in MANAGESIEVE command ${command.name}: Unknown command.`);
        continue;
      }
      if (!spec.states.includes(this.state)) {
        this.write(statusLine('NO', this.state === 'nonauth' ? `${command.name}: authenticate first.` : `${command.name} is not allowed once authenticated.`));
        continue;
      }
      if (!argumentsMatch(spec.args, command.args)) {
        this.bad(`Error in MANAGESIEVE command ${command.name}: Invalid arguments.`);
        continue;
      }
      await spec.run(this, command.args);
      if (this.closed) break;
    }
    if (this.timer) clearTimeout(this.timer);
  }

  private bad(message: string) {
    this.badCommands++;
    if (this.badCommands >= this.services.settings.maxBadCommands) this.kill('Too many invalid commands.');
    else this.write(statusLine('NO', message));
  }

  async startTls(): Promise<void> {
    const context = this.services.secureContext;
    if (!context || this.secure) {
      this.write(statusLine('NO', 'TLS is not available here.'));
      return;
    }
    this.write(statusLine('OK', 'Begin TLS negotiation now.'));
    const plain = this.socket;
    this.detach(plain);
    // Anything sent after STARTTLS in clear text is dropped: it could be injected by someone in the middle.
    this.buf = Buffer.alloc(0);
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: context });
    const ok = await new Promise<boolean>((resolve) => {
      secure.once('secure', () => resolve(true));
      secure.once('error', () => resolve(false));
      plain.once('close', () => resolve(false));
    });
    if (!ok) {
      this.closed = true;
      plain.destroy();
      return;
    }
    this.socket = secure;
    this.secure = true;
    this.attach(secure);
    this.write(this.capabilities() + statusLine('OK', 'TLS negotiation successful.'));
  }

  async authenticate(mechanism: string, initial: string | null): Promise<void> {
    if (mechanism.toUpperCase() !== 'PLAIN') {
      this.write(statusLine('NO', 'Unsupported authentication mechanism.'));
      return;
    }
    if (!this.secure && !this.services.allowPlaintextAuth) {
      this.write(statusLine('NO', 'Plaintext authentication disallowed on non-secure (SSL/TLS) connections.', 'ENCRYPT-NEEDED'));
      return;
    }
    let response = initial;
    if (response === null) {
      this.write('""\r\n');
      const line = await this.continuation();
      if (line === null) return;
      response = line;
    }
    if (response === '*') {
      this.write(statusLine('NO', 'Authentication cancelled.'));
      return;
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(response) || response.length % 4 !== 0) {
      this.write(statusLine('NO', 'Invalid base64 data in SASL response.'));
      return;
    }
    const parts = Buffer.from(response, 'base64').toString('utf8').split('\0');
    if (parts.length !== 3 || !parts[1] || (parts[0] && parts[0] !== parts[1])) {
      this.write(statusLine('NO', 'Authentication failed.'));
      return;
    }
    const verdict = await this.services.authenticator.login({ username: parts[1], password: parts[2], remoteAddress: this.remoteAddress });
    if (!verdict.ok) {
      this.write(statusLine('NO', verdict.text, verdict.tryLater ? 'TRYLATER' : undefined));
      return;
    }
    this.state = 'auth';
    this.mailboxId = verdict.mailboxId;
    this.username = verdict.username;
    this.services.onLogin?.({ mailboxId: verdict.mailboxId, username: verdict.username, remoteAddress: this.remoteAddress });
    this.write(statusLine('OK', 'Logged in.'));
  }

  unauthenticate(): void {
    this.state = 'nonauth';
    this.mailboxId = null;
    this.username = null;
  }

  /** A SASL continuation: one string (quoted or literal) on a line of its own. */
  private async continuation(): Promise<string | null> {
    const limits = { maxLineBytes: this.services.settings.maxLineBytes, maxLiteralBytes: this.services.settings.maxLineBytes };
    for (;;) {
      if (this.closed) return null;
      // Parsed as the argument of a command with no name.
      const r = parseCommand(Buffer.concat([Buffer.from('X '), this.buf]), limits);
      if (r.kind === 'command') {
        this.buf = this.buf.subarray(r.consumed - 2);
        const [arg] = r.command.args;
        if (r.command.args.length !== 1 || arg.kind !== 'string') {
          this.write(statusLine('NO', 'Invalid SASL response.'));
          return null;
        }
        return arg.value.toString('latin1');
      }
      if (r.kind === 'error') {
        if (r.consumed < 0) this.kill(r.message);
        else {
          this.buf = this.buf.subarray(r.consumed - 2);
          this.write(statusLine('NO', 'Invalid SASL response.'));
        }
        return null;
      }
      await this.waitForData();
    }
  }
}

function argumentsMatch(spec: Array<'string' | 'number' | 'string?'>, args: Argument[]): boolean {
  const required = spec.filter((s) => !s.endsWith('?')).length;
  if (args.length < required || args.length > spec.length) return false;
  return args.every((a, i) => {
    const want = spec[i];
    if (want === 'number') return a.kind === 'atom' && /^\d{1,10}$/.test(a.value);
    return a.kind === 'string';
  });
}
