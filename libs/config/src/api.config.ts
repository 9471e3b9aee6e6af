/** The API's configuration: every variable, its default and its check, in one place. Bad config stops the boot. */
import { z } from 'zod';
import { mailRuntimeConfigIssues, mailRuntimeConfigShape } from './mail-runtime.config';
import { stripeConfigShape } from './billing.config';

const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => ['true', '1', 'yes'].includes(v));

export const apiConfigSchema = z.object({
  /** Blob store, SRS and settings secrets: the same variables as the mail nodes' (mail-runtime.config.ts), for serving mail. */
  ...mailRuntimeConfigShape,
  /** Stripe, for Checkout and Customer Portal links and plan changes (billing.config.ts); unset: manual billing only. */
  ...stripeConfigShape,
  /** PostgreSQL; when absent, `npm start` runs an embedded PostgreSQL under DIZI_DATA_DIR. */
  DATABASE_URL: z.string().url().optional(),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(5433),
  API_HOST: z.string().default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Where the public API lives for links and OpenAPI servers. */
  API_PUBLIC_URL: z.string().url().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(300).default(30 * 86_400),
  /** OIDC issuer (Keycloak realm URL) whose bearer tokens are accepted; unset disables OIDC sign-in. */
  OIDC_ISSUER: z.string().url().optional(),
  /** Expected `aud` of OIDC tokens; unset: OIDC_CLIENT_ID (the audience is always checked). */
  OIDC_AUDIENCE: z.string().optional(),
  /** Our Keycloak client: tokens must be issued to it (`azp`), and only its `resource_access.<client>.roles` (dizi-*) count. */
  OIDC_CLIENT_ID: z.string().default('dizi'),
  /** Claim that carries the tenant id for tenant admins signing in through OIDC. */
  OIDC_TENANT_CLAIM: z.string().default('dizi_tenant'),
  /** Seed the demo tenant (demo.test) at start. */
  DIZI_DEMO: bool.default(true),
  /** When set, every demo account gets this password (so scripts can sign in); otherwise random ones are printed once. */
  DIZI_DEMO_PASSWORD: z.string().min(8).optional(),
  /** Failed sign-ins per account+IP before sign-in from that pair is blocked for a while. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT_IP: z.coerce.number().int().min(1).default(5),
  /**
   * Failed sign-ins per IP (any account) per hour before the IP is blocked for an hour. High: a whole
   * office behind one NAT, or a webmail front end, signs in from one address; guessing is slowed per
   * account+IP (above) and per account (libs/auth login-throttle) instead.
   */
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(1000),
  /** Every failed sign-in answers only after this pause (slows guessing; Dovecot's auth_failure_delay). */
  LOGIN_FAILURE_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(1000),
  /** Requests per IP per minute on the whole API. */
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(1200),
  /** Mailboxes held in the API's in-memory search indexes, all domains together (about 300 bytes each); larger domains are searched in SQL. */
  API_MAILBOX_INDEX_MAX_ENTRIES: z.coerce.number().int().min(0).default(1_000_000),
  /** Largest JSON request body, after gzip/deflate/br is undone; larger answers 413. */
  API_JSON_BODY_MAX_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
  /** Largest CSV import body, after gzip/deflate/br is undone; read only after sign-in, only on the import route. */
  API_IMPORT_BODY_MAX_BYTES: z.coerce.number().int().min(1024).default(64 * 1024 * 1024),
  /** JMAP limits (RFC 8620 §2), announced in the session resource and enforced: largest request body in bytes. */
  JMAP_MAX_SIZE_REQUEST: z.coerce.number().int().min(1024).default(10_000_000),
  /** Method calls in one JMAP request. */
  JMAP_MAX_CALLS_IN_REQUEST: z.coerce.number().int().min(1).default(32),
  /** Records one JMAP /get may ask for (and /query answer at once). */
  JMAP_MAX_OBJECTS_IN_GET: z.coerce.number().int().min(1).default(500),
  /** Records one JMAP /set may create, update and destroy together. */
  JMAP_MAX_OBJECTS_IN_SET: z.coerce.number().int().min(1).default(500),
  /** Seconds ahead a JMAP EmailSubmission may be held for later sending (maxDelayedSend); 0 turns it off. */
  JMAP_MAX_DELAYED_SEND: z.coerce.number().int().min(0).max(31_536_000).default(30 * 86_400),
  /** JMAP requests one account may have running at once (per API process). */
  JMAP_MAX_CONCURRENT_REQUESTS: z.coerce.number().int().min(1).default(4),
  /** Largest JMAP blob upload in bytes. */
  JMAP_MAX_SIZE_UPLOAD: z.coerce.number().int().min(1024).default(50_000_000),
  /** JMAP uploads one account may have running at once. */
  JMAP_MAX_CONCURRENT_UPLOAD: z.coerce.number().int().min(1).default(4),
  /** DNS servers the domain DNS check asks (`127.0.0.1:5353,10.0.0.2`), as the mail nodes' DNS_SERVERS; empty: the system resolver. */
  DNS_SERVERS: z.string().default(''),
  /** Milliseconds per DNS try in the domain DNS check (two tries). */
  DNS_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2000),
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;

export class ConfigError extends Error {}

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const parsed = apiConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const issues = mailRuntimeConfigIssues(parsed.data);
  if (issues.length > 0) throw new ConfigError(`Invalid configuration:\n${issues.map((i) => `  ${i}`).join('\n')}`);
  return parsed.data;
}
