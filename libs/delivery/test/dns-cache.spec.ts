/**
 * The authentication checks' DNS cache, against a real unbound behind a relay that counts (and can drop) the queries
 * that reach it: one query for a name many sessions ask at once, answers and "no such name" reused until they expire,
 * failures never kept.
 */
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUnbound, type Unbound } from '@dizi/testing/unbound';
import { createDnsResolver } from '../src/auth-results/dns-resolver';

/** A UDP relay to `upstream`: counts the queries it passes on; while `dropping`, passes nothing. */
async function startRelay(upstream: Unbound) {
  const front: Socket = createSocket('udp4');
  const back: Socket = createSocket('udp4');
  const waiting = new Map<number, { port: number; address: string }>();
  const relay = { queries: 0, dropping: false, server: '', close: (): Promise<void> => Promise.resolve() };
  front.on('message', (msg, from) => {
    if (relay.dropping) return;
    relay.queries++;
    waiting.set(msg.readUInt16BE(0), { port: from.port, address: from.address });
    back.send(msg, upstream.port, '127.0.0.1');
  });
  back.on('message', (msg) => {
    const to = waiting.get(msg.readUInt16BE(0));
    if (to) front.send(msg, to.port, to.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', r));
  relay.server = `127.0.0.1:${front.address().port}`;
  relay.close = async () => {
    await new Promise<void>((r) => front.close(() => r()));
    await new Promise<void>((r) => back.close(() => r()));
  };
  return relay;
}

describe('DNS cache of the authentication checks', () => {
  let unbound: Unbound;
  let relay: Awaited<ReturnType<typeof startRelay>>;
  let clock = 1_000_000;

  beforeAll(async () => {
    unbound = await startUnbound([
      { name: 'sender.test', type: 'TXT', value: 'v=spf1 ip4:192.0.2.1 -all' },
      { name: '_dmarc.sender.test', type: 'TXT', value: 'v=DMARC1; p=reject' },
    ]);
    relay = await startRelay(unbound);
  });
  afterAll(async () => {
    await relay?.close();
    await unbound?.stop();
  });

  it('asks once for a name many sessions want at the same moment, and reuses the answer until it expires', async () => {
    const resolve = createDnsResolver(relay.server, { timeoutMs: 500, tries: 1, cacheMs: 60_000, now: () => clock });
    relay.queries = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => resolve('sender.test', 'TXT')));
    expect(answers.every((a) => JSON.stringify(a) === JSON.stringify([['v=spf1 ip4:192.0.2.1 -all']]))).toBe(true);
    expect(relay.queries).toBe(1);
    clock += 59_000;
    await resolve('SENDER.test', 'TXT');
    expect(relay.queries).toBe(1);
    clock += 2_000;
    expect(await resolve('sender.test', 'TXT')).toEqual([['v=spf1 ip4:192.0.2.1 -all']]);
    expect(relay.queries).toBe(2);
    // Another record type of the same name is another question.
    await expect(resolve('sender.test', 'MX')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(relay.queries).toBe(3);
  });

  it('keeps "no such name" too, but never a failure: the next message asks again', async () => {
    const resolve = createDnsResolver(relay.server, { timeoutMs: 300, tries: 1, cacheMs: 60_000, now: () => clock });
    relay.queries = 0;
    await expect(resolve('_dmarc.nowhere.sender.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolve('_dmarc.nowhere.sender.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(relay.queries).toBe(1);

    relay.dropping = true;
    await expect(resolve('_dmarc.sender.test', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    relay.dropping = false;
    expect(await resolve('_dmarc.sender.test', 'TXT')).toEqual([['v=DMARC1; p=reject']]);
    expect(relay.queries).toBe(2);
  });

  it('asks every time with no cache time', async () => {
    const resolve = createDnsResolver(relay.server, { timeoutMs: 500, tries: 1 });
    relay.queries = 0;
    await Promise.all([resolve('sender.test', 'TXT'), resolve('sender.test', 'TXT')]);
    expect(relay.queries).toBe(2);
  });
});
