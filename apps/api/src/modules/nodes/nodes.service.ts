/**
 * The mail nodes from their heartbeats in Redis (libs/delivery node-heartbeat): roles, open connections, and
 * whether each still reports. Operators only: nodes belong to the installation.
 */
import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { nodeHeartbeat } from '@dizi/contracts/node.contract';
import { NODE_HEARTBEAT_MS, NODES_KEY } from '@dizi/delivery/adapters/redis/node-heartbeat';
import type { Actor } from '@dizi/domain/policy';
import { forbidden } from '../../common/api-error';
import { REDIS } from '../../common/tokens';

/** A node that missed three heartbeats is silent. */
const SILENT_AFTER_MS = 3 * NODE_HEARTBEAT_MS;

@Injectable()
export class NodesService {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async list(actor: Actor) {
    if (actor.role !== 'operator') throw forbidden('only operators see the mail nodes');
    const now = Date.now();
    const items = Object.entries(await this.redis.hgetall(NODES_KEY))
      .flatMap(([id, raw]) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          return [];
        }
        const beat = nodeHeartbeat.safeParse(parsed);
        if (!beat.success) return [];
        const b = beat.data;
        return [{
          id,
          name: b.name,
          roles: b.roles,
          status: b.seenAt >= now - SILENT_AFTER_MS ? ('up' as const) : ('silent' as const),
          pid: b.pid,
          startedAt: new Date(b.startedAt).toISOString(),
          lastSeenAt: new Date(b.seenAt).toISOString(),
          connections: b.connections,
        }];
      })
      .sort((a, b) => (a.status === b.status ? a.name.localeCompare(b.name) || a.id.localeCompare(b.id) : a.status === 'up' ? -1 : 1));
    return { heartbeatSeconds: NODE_HEARTBEAT_MS / 1000, items };
  }
}
