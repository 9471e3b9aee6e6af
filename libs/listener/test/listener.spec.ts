// The shared listener over real sockets: admission before the greeting, release when a session ends, close() waiting.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createListener, type Listener } from '../src/listener';

const read = (socket: net.Socket) =>
  new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (c) => (text += c));
    socket.on('close', () => resolve(text));
  });

describe('createListener', () => {
  let listener: Listener | null = null;
  afterEach(async () => {
    await listener?.close();
    listener = null;
  });

  it('sends the refusal instead of a session to a client the policy refuses, and ends the connection', async () => {
    let served = 0;
    listener = createListener({
      admitConnection: async () => ({ admitted: false, reason: 'rate' }),
      refusal: (reason) => `-ERR refused (${reason})\r\n`,
      serve: async () => void served++,
      onError: (err) => { throw err; },
    });
    const port = await listener.listen(0);
    expect(await read(net.connect(port, '127.0.0.1'))).toBe('-ERR refused (rate)\r\n');
    expect(served).toBe(0);
  });

  it('releases the admission once the session ends, and close() waits for a running session', async () => {
    const events: string[] = [];
    let finish!: () => void;
    listener = createListener({
      admitConnection: async () => ({ admitted: true, release: () => events.push('released') }),
      refusal: () => '',
      serve: (socket) =>
        new Promise<void>((resolve) => {
          socket.write('hello\r\n');
          events.push('serving');
          finish = () => {
            events.push('session ended');
            resolve();
          };
        }),
      onError: (err) => { throw err; },
    });
    const port = await listener.listen(0);
    const client = net.connect(port, '127.0.0.1');
    const text = read(client);
    await new Promise((r) => client.once('data', r));
    expect(listener.connections()).toBe(1);
    let closed = false;
    const closing = listener.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    finish();
    await closing;
    expect(events).toEqual(['serving', 'session ended', 'released']);
    expect(await text).toBe('hello\r\n');
    listener = null;
  });
});
