/** Requests per client IP per minute on the whole API, counted in Redis so every API node shares the budget. */
import type { NextFunction, Request, Response } from 'express';
import Redis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export function rateLimitMiddleware(redis: Redis, perMinute: number) {
  const limiter = new RateLimiterRedis({ storeClient: redis, keyPrefix: 'api:rate', points: perMinute, duration: 60 });
  return (req: Request, res: Response, next: NextFunction) => {
    limiter
      .consume(req.ip ?? 'unknown')
      .then(() => next())
      .catch((e: unknown) => {
        // A Redis outage must not take the API down with it: let the request through.
        if (!(e instanceof RateLimiterRes)) return next();
        res.setHeader('Retry-After', String(Math.ceil(e.msBeforeNext / 1000)));
        res.status(429).json({ statusCode: 429, error: 'too_many_requests', message: `more than ${perMinute} requests a minute from this address; slow down` });
      });
  };
}
