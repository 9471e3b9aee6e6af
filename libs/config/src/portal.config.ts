/** The portal's (apps/portal) configuration: every variable, its default and its check. Bad config stops the start. */
import { z } from 'zod';

export const portalConfigSchema = z.object({
  PORTAL_HOST: z.string().default('127.0.0.1'),
  PORTAL_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  /** Where the portal's server reaches the API (never shown to browsers: they talk to the portal only). */
  PORTAL_API_URL: z.string().url().default('http://127.0.0.1:3000'),
  /** The portal's address as browsers see it (https://mail.example.com); used for the OIDC redirect and the origin check. Unset: the request's Host. */
  PORTAL_PUBLIC_URL: z.string().url().optional(),
  /** Key sealing the session cookie (32 bytes, base64). Unset: DIZI_DATA_DIR/keys/portal-session.key (development). */
  PORTAL_SESSION_SECRET: z.string().optional(),
  DIZI_DATA_DIR: z.string().default('.dizi'),
  /** A console session ends after this many minutes without a request. */
  PORTAL_IDLE_TIMEOUT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(30),
  /** A console session ends this many hours after sign-in, however active. */
  PORTAL_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
  /** OpenID Connect issuer (Keycloak realm URL) for operators and admins; unset hides "sign in with SSO". */
  OIDC_ISSUER: z.string().url().optional(),
  /** The portal's client at the issuer: a confidential client when a secret is given, else a public one (PKCE either way). */
  PORTAL_OIDC_CLIENT_ID: z.string().default('dizi'),
  PORTAL_OIDC_CLIENT_SECRET: z.string().optional(),
  PORTAL_OIDC_SCOPE: z.string().default('openid profile email'),
  /** RFC 8707 resource to ask the access token for (issuers such as oidc-provider issue JWTs for the API only then). */
  PORTAL_OIDC_RESOURCE: z.string().url().optional(),
});

export type PortalConfig = z.infer<typeof portalConfigSchema>;

export function loadPortalConfig(env: NodeJS.ProcessEnv = process.env): PortalConfig {
  const parsed = portalConfigSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid portal configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
