'use client';
/** The API client for client components: through the portal's relay, which adds the session's token. */
import { apiClient } from './api-client';

export const browserApi = apiClient((method, path, body) =>
  fetch(`/bff${path}`, {
    method,
    credentials: 'same-origin',
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    body: body === undefined ? undefined : JSON.stringify(body),
  }),
);
