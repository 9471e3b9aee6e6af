'use client';
/**
 * The user's webmail preferences, kept by the API (`/api/me/preferences` through the portal's relay) so they follow
 * the user to every browser. One copy per page, shared by every component that asks.
 */
import { useEffect, useSyncExternalStore } from 'react';
import { setPreferredTimeZone } from './time-zone';

export interface MailPreferences {
  density: 'comfortable' | 'compact';
  timeZone: string | null;
  imageSenders: string[];
}

export const DEFAULT_PREFERENCES: MailPreferences = { density: 'comfortable', timeZone: null, imageSenders: [] };

let current: MailPreferences | null = null;
let loading: Promise<void> | null = null;
const listeners = new Set<() => void>();

function publish(next: MailPreferences): void {
  current = next;
  setPreferredTimeZone(next.timeZone);
  for (const l of listeners) l();
}

export class PreferenceError extends Error {}

async function call(method: 'GET' | 'PATCH', body?: Partial<MailPreferences>): Promise<MailPreferences> {
  const res = await fetch('/bff/api/me/preferences', {
    method,
    credentials: 'same-origin',
    headers: body ? { 'content-type': 'application/json' } : undefined,
    body: body ? JSON.stringify(body) : undefined,
  });
  const answer = (await res.json().catch(() => ({}))) as MailPreferences & { message?: unknown };
  if (!res.ok) throw new PreferenceError(Array.isArray(answer.message) ? answer.message.join('; ') : String(answer.message ?? `HTTP ${res.status}`));
  return answer;
}

export function loadPreferences(): Promise<void> {
  loading ??= call('GET')
    .then(publish)
    .catch(() => {
      loading = null;
    });
  return loading;
}

/** Saves the fields given; the answer (the whole preferences) replaces the page's copy. */
export async function savePreferences(change: Partial<MailPreferences>): Promise<MailPreferences> {
  const saved = await call('PATCH', change);
  publish(saved);
  return saved;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The preferences, null until loaded (loaded on first use). */
export function usePreferences(): MailPreferences | null {
  useEffect(() => {
    void loadPreferences();
  }, []);
  return useSyncExternalStore(subscribe, () => current, () => null);
}
