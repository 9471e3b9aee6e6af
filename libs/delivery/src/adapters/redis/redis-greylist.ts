/**
 * GreylistStore on Redis, shared by every node: one hash per triplet (first attempt, last pass) and one sorted set per
 * client network of the triplets it passed (postgrey's auto-whitelist count). One Lua script per attempt, so two nodes
 * seeing the same retry at once agree. Times are the caller's clock (tests move it); Redis TTLs only clean up.
 */
import type Redis from 'ioredis';
import type { GreylistStore } from '@dizi/smtp/inbound/ports';

const ATTEMPT = `
local now = tonumber(ARGV[1])
local delay = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local passMs = tonumber(ARGV[4])
local autoPass = tonumber(ARGV[5])
local triplet = ARGV[6]
if autoPass > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - passMs)
  if redis.call('ZCARD', KEYS[2]) >= autoPass then
    return {1, 'network', 0}
  end
end
local rec = redis.call('HMGET', KEYS[1], 'first', 'passed')
local first = tonumber(rec[1])
local passed = tonumber(rec[2])
local function pass(reason)
  redis.call('HSET', KEYS[1], 'passed', now)
  redis.call('PEXPIRE', KEYS[1], math.max(passMs, 1000))
  redis.call('ZADD', KEYS[2], now, triplet)
  redis.call('PEXPIRE', KEYS[2], math.max(passMs, 1000))
  return {1, reason, 0}
end
if passed and passed > 0 and now - passed <= passMs then return pass('known') end
if first and now >= first and now - first <= window then
  if now - first >= delay then return pass('delayed') end
  return {0, 'early', delay - (now - first)}
end
redis.call('HSET', KEYS[1], 'first', now, 'passed', 0)
redis.call('PEXPIRE', KEYS[1], math.max(window, 1000))
return {0, 'new', delay}
`;

export class RedisGreylistStore implements GreylistStore {
  constructor(private readonly redis: Redis) {}

  async attempt(o: Parameters<GreylistStore['attempt']>[0]): ReturnType<GreylistStore['attempt']> {
    const [pass, reason, waitMs] = (await this.redis.eval(
      ATTEMPT, 2, `greylist:t:${o.triplet}`, `greylist:n:${o.network}`,
      o.now, o.delayMs, o.retryWindowMs, o.passMs, o.autoPassAfter, o.triplet,
    )) as [number, 'new' | 'early' | 'delayed' | 'known' | 'network', number];
    return { pass: pass === 1, reason, waitMs: Number(waitMs) };
  }
}
