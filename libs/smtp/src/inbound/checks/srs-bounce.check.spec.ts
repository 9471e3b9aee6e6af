import { describe, expect, it } from 'vitest';
import { DEFAULT_SMTP_SETTINGS } from '@dizi/contracts/mail-settings.contract';
import { PolicyDeps, RCPT_CHECKS, RcptInput, runStage } from '../pipeline';
import type { RecipientResolution } from '../ports';
import { newSession } from '../session';
import { Srs } from '../../srs/srs';

const NOW = Date.UTC(2026, 10, 27);
const srs = new Srs({ secrets: ['s3cret'], now: () => NOW });
const local = (address: string): RecipientResolution => ({ kind: 'local', target: 'mailbox', address, domain: 'acme.test', tenantId: 't', mailbox: { id: 'm', quotaBytes: 1000, usedBytes: 0 } });

function deps(withSrs = true): PolicyDeps {
  return {
    directory: {
      async resolveRecipient(address) {
        const domain = address.split('@')[1];
        if (address === 'alice@acme.test') return local(address);
        if (domain === 'acme.test') return { kind: 'unavailable', address, domain, reason: 'unknown-user' };
        return { kind: 'remote', address, domain };
      },
      resolveSender: async () => ({ local: false, owned: false }),
      sendAllowance: async () => ({ limit: null, sentToday: 0 }),
      expandRecipient: async () => ({ mailboxes: [], remotes: 0, failures: [] }),
    },
    limiter: { admit: async () => ({ admitted: true as const, release: async () => undefined }) },
    authenticator: { authenticate: async () => ({ ok: false, reason: 'invalid' }), resolveLogin: async (u) => u },
    resolver: { hasMailHost: async () => 'yes' },
    hostname: 'mx.acme.test',
    authFailureDelayMs: 0,
    tarpitStepMs: 0,
    srs: withSrs ? srs : undefined,
  };
}

/** RCPT from an unauthenticated client on the MX listener: no relaying allowed. */
function rcpt(recipient: string, d = deps()): RcptInput {
  const session = newSession('s', 'mx', '192.0.2.1', '[192.0.2.1]', 0);
  session.transaction = { mailFrom: '', declaredSize: null, recipients: [], refused: [] };
  return { session, settings: DEFAULT_SMTP_SETTINGS, deps: d, recipient, declaredSize: null, resolution: () => d.directory.resolveRecipient(recipient) };
}

describe('srs-bounce check', () => {
  it('turns a bounce to our SRS address back into the remote original sender and lets it through without relay rights', async () => {
    const address = srs.forward('bob@remote.example', 'acme.test').toLowerCase();
    const input = rcpt(address);
    expect(await runStage(RCPT_CHECKS, input)).toMatchObject({ kind: 'accept', check: 'srs-bounce' });
    expect(input.recipient).toBe('bob@remote.example');
    expect(input.reversedFrom).toBe(address);
    expect(await input.resolution()).toEqual({ kind: 'remote', address: 'bob@remote.example', domain: 'remote.example' });
  });

  it('sends a reversed local address on through the usual existence checks', async () => {
    // The hash does not cover the forwarding domain (as in libsrs2), so an address made elsewhere stands for a local sender here.
    const ok = rcpt(srs.forward('alice@acme.test', 'other.acme.test').replace('@other.acme.test', '@acme.test'));
    expect((await runStage(RCPT_CHECKS, ok)).kind).toBe('accept');
    expect(ok.recipient).toBe('alice@acme.test');
    const gone = rcpt(srs.forward('nobody@acme.test', 'x.test').replace('@x.test', '@acme.test'));
    expect(await runStage(RCPT_CHECKS, gone)).toMatchObject({ kind: 'reject', code: 550, check: 'recipient-exists' });
  });

  it('refuses forged and expired SRS addresses with 550 5.1.1', async () => {
    const good = srs.forward('bob@remote.example', 'acme.test');
    const forged = good.replace(/^SRS0=..../, 'SRS0=AAAA');
    expect(await runStage(RCPT_CHECKS, rcpt(forged))).toMatchObject({ kind: 'reject', code: 550, enhanced: '5.1.1', check: 'srs-bounce', text: expect.stringContaining('invalid bounce address') });
    const old = new Srs({ secrets: ['s3cret'], now: () => NOW - 30 * 86_400_000 }).forward('bob@remote.example', 'acme.test');
    expect(await runStage(RCPT_CHECKS, rcpt(old))).toMatchObject({ kind: 'reject', code: 550, check: 'srs-bounce', text: expect.stringContaining('expired') });
    expect(await runStage(RCPT_CHECKS, rcpt('SRS0=junk@acme.test'))).toMatchObject({ kind: 'reject', code: 550, check: 'srs-bounce' });
  });

  it("leaves other domains' SRS addresses, plain addresses and nodes without SRS to the other checks", async () => {
    const theirs = new Srs({ secrets: ['theirs'] }).forward('x@y.example', 'elsewhere.example');
    expect(await runStage(RCPT_CHECKS, rcpt(theirs))).toMatchObject({ kind: 'reject', code: 554, check: 'relay' });
    expect(await runStage(RCPT_CHECKS, rcpt('alice@acme.test'))).toMatchObject({ kind: 'accept' });
    const address = srs.forward('bob@remote.example', 'acme.test');
    expect(await runStage(RCPT_CHECKS, rcpt(address, deps(false)))).toMatchObject({ kind: 'reject', code: 550, check: 'recipient-exists' });
  });
});
