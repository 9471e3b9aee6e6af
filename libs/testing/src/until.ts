/**
 * Polls `probe` until it yields something truthy, and returns that; fails naming `what` after `timeoutMs`. For wire
 * tests waiting on another process or a queue: the condition is checked again rather than assumed after a sleep.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | null | false>,
  { timeoutMs = 20_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
