/** A post-sign-in destination taken from the URL: only a path of this portal, never another site. */
export function safeNext(next: string | null | undefined): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return null;
  if (next.startsWith('/auth/') || next.startsWith('/bff/')) return null;
  return next;
}
