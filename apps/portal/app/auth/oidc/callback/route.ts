/**
 * The issuer sends the browser back here with a code: exchange it (PKCE verifier, state and nonce checked by
 * openid-client), let the API say who the token is (roles and tenant exactly as the API reads them), record
 * the sign-in in the audit trail, and open the console session.
 */
import * as oidc from 'openid-client';
import { NextRequest, NextResponse } from 'next/server';
import { OidcFlow, oidcConfiguration, resourceParameter } from '../../../../lib/oidc';
import { expectedOrigin, portalHref } from '../../../../lib/origin';
import { portalConfig } from '../../../../lib/portal-config';
import { apiWithToken } from '../../../../lib/server-api';
import { cookieOptions, homeOf, isConsoleRole, OIDC_FLOW_COOKIE, seal, Session, SESSION_COOKIE, unseal } from '../../../../lib/session';

export async function GET(req: NextRequest): Promise<NextResponse> {
  const fail = (error: string) => {
    const res = NextResponse.redirect(portalHref(req, `/sign-in?error=${error}`), 303);
    res.cookies.set(OIDC_FLOW_COOKIE, '', cookieOptions(0));
    return res;
  };
  const flow = unseal<OidcFlow>(req.cookies.get(OIDC_FLOW_COOKIE)?.value);
  if (!flow) return fail('oidc_flow');
  let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  try {
    // The URL the issuer redirected to, as the browser saw it (the redirect_uri's origin).
    const current = new URL(req.nextUrl.pathname + req.nextUrl.search, expectedOrigin(req));
    tokens = await oidc.authorizationCodeGrant(
      await oidcConfiguration(),
      current,
      { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true },
      resourceParameter(),
    );
  } catch {
    return fail('oidc_refused');
  }
  const api = apiWithToken(tokens.access_token);
  const actor = await api.me().catch(() => null);
  if (!actor || !isConsoleRole(actor.role)) return fail('oidc_no_role');
  await fetch(`${portalConfig().PORTAL_API_URL.replace(/\/$/, '')}/api/auth/oidc/sign-in`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } }).catch(() => undefined);

  const now = Date.now();
  const session: Session = {
    via: 'oidc',
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    accessExpiresAt: now + (tokens.expires_in ?? 300) * 1000,
    actor,
    signedInAt: now,
    lastSeenAt: now,
  };
  const res = NextResponse.redirect(portalHref(req, flow.next || homeOf(actor)), 303);
  res.cookies.set(SESSION_COOKIE, seal(session), cookieOptions());
  res.cookies.set(OIDC_FLOW_COOKIE, '', cookieOptions(0));
  return res;
}
