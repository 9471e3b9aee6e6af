/** The API client for server components and route handlers: straight to the API with the session's token. */
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { apiClient, ApiClient, ApiRequestError } from './api-client';
import { portalConfig } from './portal-config';
import { Session, SESSION_COOKIE, unseal } from './session';

export async function currentSession(): Promise<Session | null> {
  return unseal<Session>((await cookies()).get(SESSION_COOKIE)?.value);
}

export function apiWithToken(accessToken: string | undefined): ApiClient {
  const base = portalConfig().PORTAL_API_URL.replace(/\/$/, '');
  return apiClient((method, path, body) =>
    fetch(`${base}${path}`, {
      method,
      cache: 'no-store',
      headers: { ...(accessToken ? { authorization: `Bearer ${accessToken}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

/** The signed-in console user and a client acting as them; sends anyone else to the sign-in page. */
export async function requireSession(): Promise<{ session: Session; api: ApiClient }> {
  const session = await currentSession();
  if (!session) redirect('/sign-in');
  return { session, api: apiWithToken(session.accessToken) };
}

/** Runs an API read for a page; a 401 (token revoked meanwhile) ends at the sign-in page, a 404 at notFound. */
export async function load<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (e) {
    if (e instanceof ApiRequestError && e.status === 401) redirect('/sign-in?reason=expired');
    if (e instanceof ApiRequestError && (e.status === 404 || e.status === 403 || e.status === 400)) {
      const { notFound } = await import('next/navigation');
      notFound();
    }
    throw e;
  }
}
