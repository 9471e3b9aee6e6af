/**
 * The console session: the API's (or the OIDC issuer's) tokens sealed with AES-256-GCM into one httpOnly,
 * SameSite=Lax cookie, so no token is ever readable by page scripts and the portal keeps no session store.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { actorView } from '@dizi/contracts/auth.contract';
import { portalConfig, sessionKey } from './portal-config';

export type SessionActor = z.infer<typeof actorView>;

export interface Session {
  /** local: the API's own tokens (password sign-in); oidc: the issuer's tokens. */
  via: 'local' | 'oidc';
  accessToken: string;
  refreshToken?: string;
  /** ms since the epoch */
  accessExpiresAt: number;
  actor: SessionActor;
  signedInAt: number;
  lastSeenAt: number;
}

export const SESSION_COOKIE = 'dizi_session';
/** PKCE verifier, state and nonce of a sign-in in progress at the OIDC issuer. */
export const OIDC_FLOW_COOKIE = 'dizi_oidc_flow';
export const LOCALE_COOKIE = 'dizi_locale';

export function seal(value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sessionKey(), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed value, or null when it was tampered with, sealed with another key or is not ours. */
export function unseal<T>(sealed: string | undefined): T | null {
  if (!sealed) return null;
  try {
    const raw = Buffer.from(sealed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', sessionKey(), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as T;
  } catch {
    return null;
  }
}

/** Why a session can no longer be used, or null while it can. */
export function sessionExpiry(s: Session, now = Date.now()): 'idle' | 'expired' | null {
  const c = portalConfig();
  if (now - s.lastSeenAt > c.PORTAL_IDLE_TIMEOUT_MINUTES * 60_000) return 'idle';
  if (now - s.signedInAt > c.PORTAL_SESSION_MAX_HOURS * 3_600_000) return 'expired';
  return null;
}

export function cookieOptions(maxAgeSeconds?: number) {
  const secure = portalConfig().PORTAL_PUBLIC_URL?.startsWith('https:') ?? false;
  return { httpOnly: true, sameSite: 'lax' as const, secure, path: '/', ...(maxAgeSeconds !== undefined ? { maxAge: maxAgeSeconds } : {}) };
}

/** Where each role lands after sign-in. */
export function homeOf(actor: SessionActor): string {
  if (actor.role === 'user') return '/mail';
  return actor.role === 'operator' ? '/ops' : '/admin';
}

export function isConsoleRole(role: SessionActor['role']): boolean {
  return role === 'operator' || role === 'tenant_admin' || role === 'domain_admin';
}
