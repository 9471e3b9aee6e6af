/** Renews a session's access token shortly before it expires: the API's refresh token, or the issuer's. */
import * as oidc from 'openid-client';
import type { TokenResponse } from './auth-types';
import { oidcConfiguration, resourceParameter } from './oidc';
import { portalConfig } from './portal-config';
import type { Session } from './session';

/** The renewed session, or null when it cannot be renewed (refresh token spent, revoked or absent). */
export async function refreshSession(s: Session, now = Date.now()): Promise<Session | null> {
  if (!s.refreshToken) return null;
  try {
    if (s.via === 'local') {
      const res = await fetch(`${portalConfig().PORTAL_API_URL.replace(/\/$/, '')}/api/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refreshToken: s.refreshToken }),
        cache: 'no-store',
      });
      if (!res.ok) return null;
      const t = (await res.json()) as TokenResponse;
      return { ...s, accessToken: t.accessToken, refreshToken: t.refreshToken, accessExpiresAt: now + t.expiresIn * 1000, actor: t.actor };
    }
    const t = await oidc.refreshTokenGrant(await oidcConfiguration(), s.refreshToken, resourceParameter());
    return { ...s, accessToken: t.access_token, refreshToken: t.refresh_token ?? s.refreshToken, accessExpiresAt: now + (t.expires_in ?? 300) * 1000 };
  } catch {
    return null;
  }
}
