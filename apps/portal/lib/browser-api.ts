'use client';
/** The API client for client components: through the portal's relay, which adds the session's token. */
import { apiClient, ApiRequestError } from './api-client';

export const browserApi = apiClient((method, path, body) =>
  fetch(`/bff${path}`, {
    method,
    credentials: 'same-origin',
    // Every change is declared JSON, even a DELETE without a body (the relay refuses changes of any other type).
    headers: body !== undefined || method !== 'GET' ? { 'content-type': 'application/json' } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  }),
);

/** Starts a CSV import of mailboxes into `domain` (the one request the relay passes as text/csv); returns the job id. */
export async function startMailboxImport(domain: string, csv: string): Promise<string> {
  const res = await fetch(`/bff/api/domains/${encodeURIComponent(domain)}/mailboxes/import`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'text/csv; charset=utf-8' },
    body: csv,
  });
  const body = (await res.json().catch(() => ({}))) as { jobId?: string; message?: string };
  if (!res.ok || !body.jobId) throw new ApiRequestError(res.status, body);
  return body.jobId;
}
