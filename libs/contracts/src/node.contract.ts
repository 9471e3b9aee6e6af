/** Mail nodes as operators see them: each node's heartbeat in Redis (roles, open connections), up or silent. */
import { z } from 'zod';
import { isoDate } from './common.contract';

/** What each mail node writes every few seconds into the Redis hash `nodes` (field: its id). */
export const nodeHeartbeat = z.object({
  name: z.string().describe('MTA_HOSTNAME'),
  roles: z.array(z.string()),
  pid: z.number().int(),
  startedAt: z.number().describe('ms since the epoch'),
  seenAt: z.number().describe('ms since the epoch, this heartbeat'),
  connections: z.record(z.string(), z.number().int().min(0)).describe('open client connections per protocol (smtp, imap, pop3)'),
});

export const nodeView = z.object({
  id: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  status: z.enum(['up', 'silent']).describe('silent: no heartbeat for longer than three intervals (stopped, killed or cut off)'),
  pid: z.number().int(),
  startedAt: isoDate,
  lastSeenAt: isoDate,
  connections: z.record(z.string(), z.number().int()),
});

export const nodeList = z.object({
  heartbeatSeconds: z.number().int().describe('how often a node reports'),
  items: z.array(nodeView),
});

export type NodeHeartbeat = z.infer<typeof nodeHeartbeat>;
