/** Migrations in order. Explicit files, never `synchronize` (STYLE.md). */
import { Foundation1764201600000 } from './migrations/1764201600000-foundation';

export const MIGRATIONS = [Foundation1764201600000];
