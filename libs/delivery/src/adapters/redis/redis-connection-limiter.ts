/**
 * ConnectionLimiter on Redis, shared by every node: connections per IP per minute and connections open at once per IP.
 * If Redis is unreachable connections are admitted (and logged): counters protecting the service must not stop the mail.
 *
 * Open connections are counted per node (a hash per IP: node id → count), and a node's counts only count while the
 * node is alive: each node refreshes its entry in `<ns>:conn-nodes` every `heartbeatMs`, and counts of a node whose
 * entry is older than `nodeTtlMs` are dropped at the next admission. So a node killed with SIGKILL, which never
 * releases its connections, stops holding its clients' slots within seconds instead of until a TTL of hours.
 * Admission (rate, liveness, count) is one script and one round trip; release is another.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type Redis from 'ioredis';
import type { Admission, ConnectionLimiter, ConnectionLimits } from '@dizi/smtp/inbound/ports';

/** How often a live node says so. */
export const CONNECTION_NODE_HEARTBEAT_MS = 2000;
/** A node not heard of for this long is taken for dead and its open connections stop counting. */
export const CONNECTION_NODE_TTL_MS = 6000;
/** A per-IP hash nobody touched for this long is dropped (its live entries are refreshed on every admit and release). */
const OPEN_IDLE_TTL_MS = 24 * 3600 * 1000;
const RATE_WINDOW_MS = 60_000;

/** Connections this process holds open, per namespace (smtp, imap, pop3): what the node heartbeat reports. */
const openHere = new Map<string, number>();

export function localOpenConnections(): Record<string, number> {
  return Object.fromEntries(openHere);
}

// KEYS: rate counter of the IP, open-connection hash of the IP, live-node hash. ARGV: node, per minute, at once, node TTL, idle TTL, window.
// Returns {1, open} admitted, {0, 0} over the rate, {2, open} over the concurrent limit.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = redis.call('INCR', KEYS[1])
if rate == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[6]) end
if rate > tonumber(ARGV[2]) then return {0, 0} end
redis.call('HSET', KEYS[3], ARGV[1], now + tonumber(ARGV[4]))
local open = 0
local entries = redis.call('HGETALL', KEYS[2])
for i = 1, #entries, 2 do
  local node = entries[i]
  local alive = node == ARGV[1] or tonumber(redis.call('HGET', KEYS[3], node) or '0') >= now
  if alive then open = open + tonumber(entries[i + 1]) else redis.call('HDEL', KEYS[2], node) end
end
if open >= tonumber(ARGV[3]) then return {2, open} end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return {1, open + 1}
`;

// KEYS: open-connection hash of the IP. ARGV: node, idle TTL.
const RELEASE = `
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return n
`;

// KEYS: live-node hash. ARGV: node, node TTL. Refreshes this node and forgets nodes dead for a while.
const HEARTBEAT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], ARGV[1], now + tonumber(ARGV[2]))
local nodes = redis.call('HGETALL', KEYS[1])
for i = 1, #nodes, 2 do
  if tonumber(nodes[i + 1]) < now - 3600000 then redis.call('HDEL', KEYS[1], nodes[i]) end
end
return 1
`;

type Scripted = Redis & {
  connAdmit(rateKey: string, openKey: string, nodesKey: string, ...args: Array<string | number>): Promise<[number, number]>;
  connRelease(openKey: string, ...args: Array<string | number>): Promise<number>;
  connHeartbeat(nodesKey: string, ...args: Array<string | number>): Promise<number>;
};

export interface RedisConnectionLimiterOptions {
  /** Key namespace: each protocol (smtp, imap, pop3) counts its own connections. */
  namespace?: string;
  heartbeatMs?: number;
  nodeTtlMs?: number;
  /** This process's id in the counters (default: host name, pid and a random part). */
  nodeId?: string;
}

export class RedisConnectionLimiter implements ConnectionLimiter {
  private readonly redis: Scripted;
  private readonly namespace: string;
  readonly nodeId: string;
  private readonly nodeTtlMs: number;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    redis: Redis,
    private readonly onError: (err: unknown) => void = () => undefined,
    options: RedisConnectionLimiterOptions | string = {},
  ) {
    const o = typeof options === 'string' ? { namespace: options } : options;
    this.namespace = o.namespace ?? 'smtp';
    this.nodeId = o.nodeId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.nodeTtlMs = o.nodeTtlMs ?? CONNECTION_NODE_TTL_MS;
    // defineCommand is idempotent per name; every limiter of a connection shares the scripts (EVALSHA, loaded once).
    const r = redis as Scripted;
    if (typeof r.connAdmit !== 'function') {
      redis.defineCommand('connAdmit', { numberOfKeys: 3, lua: ADMIT });
      redis.defineCommand('connRelease', { numberOfKeys: 1, lua: RELEASE });
      redis.defineCommand('connHeartbeat', { numberOfKeys: 1, lua: HEARTBEAT });
    }
    this.redis = r;
    this.heartbeat = setInterval(() => void this.beat(), o.heartbeatMs ?? CONNECTION_NODE_HEARTBEAT_MS);
    this.heartbeat.unref();
    void this.beat();
  }

  async admit(ip: string, limits: ConnectionLimits): Promise<Admission> {
    const openKey = `${this.namespace}:conn-open:${ip}`;
    let verdict: number;
    try {
      [verdict] = await this.redis.connAdmit(
        `${this.namespace}:conn-rate:${ip}`, openKey, this.nodesKey(),
        this.nodeId, limits.perMinute, limits.concurrent, this.nodeTtlMs, OPEN_IDLE_TTL_MS, RATE_WINDOW_MS,
      );
    } catch (e) {
      this.onError(e);
      return { admitted: true, release: async () => undefined };
    }
    if (verdict === 0) return { admitted: false, reason: 'rate' };
    if (verdict === 2) return { admitted: false, reason: 'concurrent' };
    let released = false;
    openHere.set(this.namespace, (openHere.get(this.namespace) ?? 0) + 1);
    return {
      admitted: true,
      release: async () => {
        if (released) return;
        released = true;
        openHere.set(this.namespace, Math.max(0, (openHere.get(this.namespace) ?? 0) - 1));
        await this.redis.connRelease(openKey, this.nodeId, OPEN_IDLE_TTL_MS).catch(this.onError);
      },
    };
  }

  /** Stops the heartbeat and withdraws this node, so what it still counted stops counting at once. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.redis.hdel(this.nodesKey(), this.nodeId).catch(this.onError);
  }

  private nodesKey(): string {
    return `${this.namespace}:conn-nodes`;
  }

  private async beat(): Promise<void> {
    await this.redis.connHeartbeat(this.nodesKey(), this.nodeId, this.nodeTtlMs).catch(this.onError);
  }
}
