/** Starts the authorization code flow with PKCE at the OpenID Connect issuer (Keycloak). */
import * as oidc from 'openid-client';
import { NextRequest, NextResponse } from 'next/server';
import { OidcFlow, oidcConfiguration, oidcEnabled, resourceParameter } from '../../../../lib/oidc';
import { expectedOrigin, portalHref } from '../../../../lib/origin';
import { portalConfig } from '../../../../lib/portal-config';
import { safeNext } from '../../../../lib/safe-next';
import { cookieOptions, OIDC_FLOW_COOKIE, seal } from '../../../../lib/session';

/** Ten minutes to come back from the issuer's sign-in page. */
const FLOW_SECONDS = 600;

export async function GET(req: NextRequest): Promise<NextResponse> {
  if (!oidcEnabled()) return NextResponse.redirect(portalHref(req, '/sign-in?error=oidc_off'), 303);
  let config: oidc.Configuration;
  try {
    config = await oidcConfiguration();
  } catch {
    return NextResponse.redirect(portalHref(req, '/sign-in?error=oidc_unavailable'), 303);
  }
  const flow: OidcFlow = {
    verifier: oidc.randomPKCECodeVerifier(),
    state: oidc.randomState(),
    nonce: oidc.randomNonce(),
    next: safeNext(req.nextUrl.searchParams.get('next')) ?? '',
  };
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${expectedOrigin(req)}/auth/oidc/callback`,
    scope: portalConfig().PORTAL_OIDC_SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
    code_challenge_method: 'S256',
    state: flow.state,
    nonce: flow.nonce,
    ...resourceParameter(),
  });
  const res = NextResponse.redirect(url, 303);
  res.cookies.set(OIDC_FLOW_COOKIE, seal(flow), cookieOptions(FLOW_SECONDS));
  return res;
}
