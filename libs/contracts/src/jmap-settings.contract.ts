/**
 * The JMAP server's limits (RFC 8620 §2 core capability) as installation settings: the API's JMAP_MAX_* variables
 * are the defaults, an operator's stored value replaces one (GET/PATCH /api/settings/jmap), and every API process
 * applies a change within a second. The session resource announces the limits in force.
 */
import { z } from 'zod';

const count = (max: number, what: string) => z.number().int().min(1).max(max).describe(what);

export const jmapSettings = z.object({
  maxSizeUpload: z.number().int().min(1024).max(2_147_483_647).describe('largest blob upload in bytes (also the attachments of one email)'),
  maxConcurrentUpload: count(100, 'uploads one account may run at once'),
  maxSizeRequest: z.number().int().min(1024).max(1_073_741_824).describe('largest API request body in bytes'),
  maxConcurrentRequests: count(100, 'API requests one account may run at once'),
  maxCallsInRequest: count(1000, 'method calls in one request'),
  maxObjectsInGet: count(100_000, 'objects one /get (and Email/query page) may ask for'),
  maxObjectsInSet: count(100_000, 'records one /set may create, update and destroy together'),
  maxDelayedSend: z.number().int().min(0).max(31_536_000).describe('seconds ahead an EmailSubmission may be held for later sending (sendAt, HOLDFOR/HOLDUNTIL); 0 turns delayed sending off'),
}).strict();

export type JmapSettings = z.infer<typeof jmapSettings>;

export const jmapSettingsPatch = z.object(
  Object.fromEntries(Object.entries(jmapSettings.shape).map(([k, v]) => [k, (v as z.ZodNumber).nullable().optional()])),
).strict().describe('only the limits to change; null puts a limit back to its default (the API\'s JMAP_MAX_* variable)');

export type JmapSettingsPatch = { [K in keyof JmapSettings]?: number | null };

export const jmapSettingsView = z.object({
  values: jmapSettings.describe('the limits in force: stored values over the defaults'),
  defaults: jmapSettings.describe('the defaults: the API\'s JMAP_MAX_* variables'),
  overridden: z.array(z.string()).describe('limits whose stored value replaces the default'),
  updatedAt: z.string().nullable(),
});
