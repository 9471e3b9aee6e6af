/** Ascending UIDs as runs of consecutive ones, the shape the store's queries take. */
export function toRanges(uids: number[]): Array<{ from: number; to: number }> {
  const out: Array<{ from: number; to: number }> = [];
  for (const u of uids) {
    const last = out[out.length - 1];
    if (last && last.to + 1 === u) last.to = u;
    else out.push({ from: u, to: u });
  }
  return out;
}
