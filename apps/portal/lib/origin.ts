/**
 * CSRF defence for every state-changing request to the portal, besides the SameSite=Lax session cookie:
 * the browser's Origin header must be the portal's own origin. Browsers always send Origin on POST, PATCH
 * and DELETE, and a page of another site cannot forge it.
 */
import { portalConfig } from './portal-config';

export function expectedOrigin(req: Request): string {
  const configured = portalConfig().PORTAL_PUBLIC_URL;
  if (configured) return new URL(configured).origin;
  const url = new URL(req.url);
  const host = req.headers.get('host') ?? url.host;
  return `${url.protocol}//${host}`;
}

export function isSameOrigin(req: Request): boolean {
  const origin = req.headers.get('origin');
  return origin !== null && origin === expectedOrigin(req);
}

/**
 * An absolute URL on the portal as the browser addressed it. Not from req.url: behind `next start -H` that
 * names the bind address's host (localhost), and a redirect there would leave the session cookie behind.
 */
export function portalHref(req: Request, path: string): URL {
  return new URL(path, expectedOrigin(req));
}
