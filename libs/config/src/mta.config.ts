/** A mail node's process configuration (environment). Runtime mail settings live in the database instead. */
import { availableParallelism, hostname } from 'node:os';
import { z } from 'zod';
import { mailRuntimeConfigIssues, mailRuntimeConfigShape } from './mail-runtime.config';

export const MTA_ROLES = ['smtp', 'imap', 'pop3', 'sieve', 'delivery', 'outbound', 'scheduler'] as const;
export type MtaRole = (typeof MTA_ROLES)[number];

const port = z.coerce.number().int().min(0).max(65535);

export const mtaConfigSchema = z.object({
  ...mailRuntimeConfigShape,
  DATABASE_URL: z.string().url(),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Which parts this node runs (ARCHITECTURE.md, process table). */
  MTA_ROLES: z
    .string()
    .default(MTA_ROLES.join(','))
    .transform((s, ctx) => {
      const roles = s.split(',').map((r) => r.trim()).filter(Boolean);
      for (const r of roles) if (!(MTA_ROLES as readonly string[]).includes(r)) ctx.addIssue({ code: 'custom', message: `unknown role "${r}"; roles are ${MTA_ROLES.join(', ')}` });
      return roles as MtaRole[];
    }),
  /**
   * Name this node gives wherever a host name appears: SMTP greeting and EHLO reply, Received, HELO to other
   * hosts, Reporting-MTA and Message-IDs of DSNs and notices, the development certificate. Default: the machine's name.
   */
  MTA_HOSTNAME: z.string().trim().toLowerCase()
    .regex(/^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/, 'must be a host name such as mx1.example.com')
    .default(hostname().toLowerCase()).describe('default: os.hostname()'),
  /** Address the mail listeners bind to. */
  MTA_BIND: z.string().default('127.0.0.1'),
  SMTP_PORT: port.default(2525),
  SUBMISSION_PORT: port.default(2587),
  SUBMISSIONS_PORT: port.default(2465),
  IMAP_PORT: port.default(2143),
  IMAPS_PORT: port.default(2993),
  POP3_PORT: port.default(2110),
  POP3S_PORT: port.default(2995),
  /** ManageSieve (RFC 5804, STARTTLS), the sieve role; 4190 in production. */
  SIEVE_PORT: port.default(24190),
  /** PEM files; without them a self-signed pair is made under DIZI_DATA_DIR/tls on first start (development). */
  TLS_CERT_FILE: z.string().optional(),
  TLS_KEY_FILE: z.string().optional(),
  /** DNS servers for MX, SPF, DKIM and DMARC lookups (`127.0.0.1:5353`); empty: the system resolver. */
  DNS_SERVERS: z.string().default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Parallel deliveries per worker process. */
  DELIVERY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  /**
   * Messages the smtp role may hand straight to this node's delivery role (when it runs both) instead of queueing
   * them in Redis; past this many waiting, mail goes through the shared queue so other nodes can help. 0: always queue.
   */
  DELIVERY_HANDOFF_LIMIT: z.coerce.number().int().min(0).max(100_000).default(256),
  OUTBOUND_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  /**
   * Worker threads the smtp role parses and indexes incoming messages in, off the thread serving the connections
   * (about half of its CPU for large messages). Default: one core left to that thread, at most 2 workers (one
   * saturated connection thread keeps about one busy). 0: on that thread.
   */
  SPOOL_SUMMARY_WORKERS: z.coerce.number().int().min(0).max(32).default(Math.max(0, Math.min(2, availableParallelism() - 1)))
    .describe('default: min(2, CPU cores - 1)'),
  /**
   * Slots of 1 MB of memory shared by the smtp role and its blob and summary threads: a message that fits one is held
   * there once, whole, and read in place by both (no copy per thread, no garbage for V8 to collect). Reserved, not
   * resident: a slot's pages are touched only when that many messages end DATA at once. Beyond them (a burst, or a
   * bigger message) mail streams as before. 0: always stream.
   */
  INGEST_SLOTS: z.coerce.number().int().min(0).max(4096).default(64),
});

export type MtaConfig = z.infer<typeof mtaConfigSchema>;

export function loadMtaConfig(env: NodeJS.ProcessEnv = process.env): MtaConfig {
  const parsed = mtaConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || 'config'}: ${i.message}`);
    throw new Error(`Invalid mail node configuration:\n${lines.join('\n')}`);
  }
  const issues = mailRuntimeConfigIssues(parsed.data);
  if (issues.length > 0) throw new Error(`Invalid mail node configuration:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  return parsed.data;
}
