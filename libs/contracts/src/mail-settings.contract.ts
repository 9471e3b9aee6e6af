/**
 * Operator settings of the mail nodes, stored in PostgreSQL (system_setting key `smtp`), changed
 * through the API and applied by every node without restart. Each default is the product's.
 */
import { z } from 'zod';

const MB = 1024 * 1024;

/** `1.2.3.4`, `10.0.0.0/8`, `2001:db8::/32`. */
const ipOrCidr = z.string().trim().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'must be an IP address or a CIDR range like 10.0.0.0/8');
/** `@spam.test` (a whole domain) or `spam@x.test` (one sender); `*` wildcards allowed in either part. */
const senderPattern = z.string().trim().toLowerCase().regex(/^[^\s@]*@[^\s@]+$/, 'must look like @spam.test or user@spam.test');

export const smtpSettings = z.object({
  greeting: z.string().max(200).default('Dizi ESMTP ready').describe('text after 220 in the greeting banner'),
  maxMessageBytes: z.number().int().min(1024).max(2048 * MB).default(100 * MB),
  maxRecipients: z.number().int().min(1).max(128).default(16).describe('recipients per message'),
  maxHops: z.number().int().min(1).max(256).default(32).describe('Received header lines before a message is refused as a loop'),
  connectionTimeoutSeconds: z.number().int().min(10).max(3600).default(300).describe('idle time before a session is closed'),
  sessionDeadlineSeconds: z.number().int().min(60).max(86_400).default(1800).describe('total time one session may last'),
  minDataRateBytesPerSecond: z.number().int().min(0).max(10 * MB).default(1024).describe('slower DATA is cut off'),
  connectionsPerIpPerMinute: z.number().int().min(1).max(100_000).default(32),
  concurrentConnectionsPerIp: z.number().int().min(1).max(10_000).default(32),
  maxAuthFailures: z.number().int().min(1).max(100).default(5).describe('failed AUTH attempts before delay and disconnect'),
  maxUnknownRecipients: z.number().int().min(1).max(1000).default(5).describe('unknown recipients before the session slows down, twice that before it ends'),
  allowVrfy: z.boolean().default(false),
  allowEtrn: z.boolean().default(false),
  allowNullSender: z.boolean().default(true).describe('MAIL FROM:<> (bounces)'),
  requireResolvableSenderDomain: z.boolean().default(false),
  ipAllowList: z.array(ipOrCidr).max(10_000).default([]),
  ipBlockList: z.array(ipOrCidr).max(10_000).default([]),
  senderBlockList: z.array(senderPattern).max(10_000).default([]),
  quotaWarningPercent: z.number().int().min(50).max(100).default(90),
  retryIntervalSeconds: z.number().int().min(60).max(86_400).default(480),
  maxDeliveryAttempts: z.number().int().min(1).max(100).default(16),
  /** Relay host for outbound mail; `never` sends straight to the MX. */
  relay: z
    .object({
      mode: z.enum(['never', 'on_failure', 'always']).default('never'),
      host: z.string().default(''),
      port: z.number().int().min(1).max(65535).default(587),
      username: z.string().default(''),
      password: z.string().default(''),
      authMethod: z.enum(['PLAIN', 'LOGIN', 'CRAM-MD5']).default('PLAIN'),
    })
    .prefault({}),
  logRetentionDays: z.number().int().min(1).max(3650).default(30),
});

export type SmtpSettings = z.infer<typeof smtpSettings>;
export const DEFAULT_SMTP_SETTINGS: SmtpSettings = smtpSettings.parse({});
