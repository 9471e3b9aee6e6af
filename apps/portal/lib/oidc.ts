/** The portal as an OpenID Connect relying party: authorization code flow with PKCE through openid-client. */
import * as oidc from 'openid-client';
import { portalConfig } from './portal-config';

let discovered: Promise<oidc.Configuration> | undefined;

export function oidcEnabled(): boolean {
  return !!portalConfig().OIDC_ISSUER;
}

export function oidcConfiguration(): Promise<oidc.Configuration> {
  const c = portalConfig();
  if (!c.OIDC_ISSUER) throw new Error('OIDC_ISSUER is not set');
  discovered ??= oidc
    .discovery(
      new URL(c.OIDC_ISSUER),
      c.PORTAL_OIDC_CLIENT_ID,
      c.PORTAL_OIDC_CLIENT_SECRET ? { client_secret: c.PORTAL_OIDC_CLIENT_SECRET } : { token_endpoint_auth_method: 'none' },
      c.PORTAL_OIDC_CLIENT_SECRET ? undefined : oidc.None(),
      // A plain-http issuer only on loopback (tests, a Keycloak beside the portal); anything else must be https.
      /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(c.OIDC_ISSUER) ? { execute: [oidc.allowInsecureRequests] } : undefined,
    )
    .catch((e) => {
      discovered = undefined;
      throw e;
    });
  return discovered;
}

/** What the callback needs to finish the flow it started. */
export interface OidcFlow {
  verifier: string;
  state: string;
  nonce: string;
  next: string;
}

export function resourceParameter(): Record<string, string> {
  const r = portalConfig().PORTAL_OIDC_RESOURCE;
  return r ? { resource: r } : {};
}
