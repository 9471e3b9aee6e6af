/** A daemon that accepts connections and reads everything but never answers: for the scanners' timeouts. */
import { createServer, type Socket } from 'node:net';

export interface SilentDaemon {
  address: string;
  close(): Promise<void>;
}

export async function startSilentDaemon(): Promise<SilentDaemon> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    address: `127.0.0.1:${port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
