// \Recent belongs to exactly one session (RFC 3501 §2.3.2): the first session that sees a UID claims it.

export interface RecentTracker {
  /** UIDs above the returned one are recent for whoever claims them next. */
  claimedUpTo(folderId: string): number;
  /** Claims every UID up to `uid`; returns the previous claim. */
  claim(folderId: string, uid: number): number;
}

/** In-process claims: right for one node; a cluster keeps the claim in Redis behind the same interface. */
export class MemoryRecentTracker implements RecentTracker {
  private readonly claims = new Map<string, number>();

  claimedUpTo(folderId: string): number {
    return this.claims.get(folderId) ?? 0;
  }

  claim(folderId: string, uid: number): number {
    const before = this.claimedUpTo(folderId);
    if (uid > before) this.claims.set(folderId, uid);
    return before;
  }
}
