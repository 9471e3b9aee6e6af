/**
 * Progress of a long migration (one that rewrites every message, say), reported to whoever runs `migrate`: a
 * migration is constructed by TypeORM, so it reaches the caller's logger through here.
 */
export interface MigrationProgress {
  migration: string;
  /** rows (or other units) done so far, of `total` */
  done: number;
  total: number;
  /** What one step changed, when a migration repairs rows one by one (a renamed folder, say): logged with it. */
  detail?: Record<string, string>;
}

export type MigrationProgressListener = (progress: MigrationProgress) => void;

let listener: MigrationProgressListener | null = null;

export function reportMigrationProgress(progress: MigrationProgress): void {
  listener?.(progress);
}

/** Runs `fn` with `onProgress` receiving the reports (one run at a time: migrate holds an advisory lock). */
export async function withMigrationProgress<T>(onProgress: MigrationProgressListener | undefined, fn: () => Promise<T>): Promise<T> {
  const before = listener;
  listener = onProgress ?? null;
  try {
    return await fn();
  } finally {
    listener = before;
  }
}
