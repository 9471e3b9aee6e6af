/** JMAP method calls from the portal's server (route handlers), straight to the API with the session's token. */
import { portalConfig } from '../portal-config';

export const JMAP_USING = ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail', 'urn:ietf:params:jmap:submission'];

export class JmapCallError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Runs one method; a method-level error (e.g. the account is not this user's) is thrown as a 404-like refusal. */
export async function jmapCall<T>(accessToken: string, method: string, args: Record<string, unknown>): Promise<T> {
  const res = await fetch(`${portalConfig().PORTAL_API_URL.replace(/\/$/, '')}/jmap/api`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ using: JMAP_USING, methodCalls: [[method, args, '0']] }),
    cache: 'no-store',
  });
  if (!res.ok) throw new JmapCallError(res.status, `JMAP answered HTTP ${res.status}`);
  const body = (await res.json()) as { methodResponses: [string, Record<string, unknown>, string][] };
  const [name, result] = body.methodResponses[0];
  if (name === 'error') throw new JmapCallError(400, String(result.description ?? result.type));
  return result as T;
}

/** A blob of the user's account as bytes, or null when it is not theirs or not there. */
export async function jmapBlob(accessToken: string, accountId: string, blobId: string): Promise<Buffer | null> {
  const base = portalConfig().PORTAL_API_URL.replace(/\/$/, '');
  const res = await fetch(`${base}/jmap/download/${encodeURIComponent(accountId)}/${encodeURIComponent(blobId)}/part`, {
    headers: { authorization: `Bearer ${accessToken}` },
    cache: 'no-store',
  });
  return res.ok ? Buffer.from(await res.arrayBuffer()) : null;
}
