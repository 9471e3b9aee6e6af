/** The limits a JMAP server announces in its session resource and enforces (RFC 8620 §2 core capability). */
export interface JmapLimits {
  maxSizeUpload: number;
  maxConcurrentUpload: number;
  maxSizeRequest: number;
  maxConcurrentRequests: number;
  maxCallsInRequest: number;
  maxObjectsInGet: number;
  maxObjectsInSet: number;
  /** Seconds ahead a submission may be held (RFC 8621 §7 maxDelayedSend); 0: no delayed sending. */
  maxDelayedSend: number;
}

/** The RFC's suggested minimums, raised where a webmail needs more. */
export const DEFAULT_JMAP_LIMITS: JmapLimits = {
  maxSizeUpload: 50_000_000,
  maxConcurrentUpload: 4,
  maxSizeRequest: 10_000_000,
  maxConcurrentRequests: 4,
  maxCallsInRequest: 32,
  maxObjectsInGet: 500,
  maxObjectsInSet: 500,
  maxDelayedSend: 30 * 86_400,
};
