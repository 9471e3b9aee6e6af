/**
 * A mail node's heartbeat: every few seconds it writes its name, roles and open connections into the Redis hash
 * `nodes` (field: its id), which the operators' console reads; a clean stop removes it, a killed node's entry goes
 * stale and reads "silent". Entries silent for a day are dropped by any node's beat.
 */
import { randomBytes } from 'node:crypto';
import type Redis from 'ioredis';
import type { NodeHeartbeat } from '@dizi/contracts/node.contract';
import { localOpenConnections } from './redis-connection-limiter';

export const NODE_HEARTBEAT_MS = 5000;
export const NODES_KEY = 'nodes';
const FORGET_AFTER_MS = 24 * 3600 * 1000;

export class NodeHeartbeatWriter {
  readonly id: string;
  private readonly startedAt = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly info: { name: string; roles: string[] },
    private readonly onError: (e: unknown) => void = () => undefined,
    intervalMs = NODE_HEARTBEAT_MS,
  ) {
    this.id = `${info.name}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.timer = setInterval(() => void this.beat(), intervalMs);
    this.timer.unref();
  }

  record(now = Date.now()): NodeHeartbeat {
    return { name: this.info.name, roles: this.info.roles, pid: process.pid, startedAt: this.startedAt, seenAt: now, connections: localOpenConnections() };
  }

  async beat(): Promise<void> {
    try {
      const now = Date.now();
      await this.redis.hset(NODES_KEY, this.id, JSON.stringify(this.record(now)));
      const all = await this.redis.hgetall(NODES_KEY);
      const stale = Object.entries(all).filter(([, v]) => {
        try {
          return (JSON.parse(v) as NodeHeartbeat).seenAt < now - FORGET_AFTER_MS;
        } catch {
          return true;
        }
      });
      if (stale.length) await this.redis.hdel(NODES_KEY, ...stale.map(([k]) => k));
    } catch (e) {
      this.onError(e);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.redis.hdel(NODES_KEY, this.id).catch(this.onError);
  }
}
