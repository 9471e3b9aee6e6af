import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';
import { withMigrationProgress, type MigrationProgressListener } from './migration-progress';

export function createDataSource(url: string, options: { poolSize?: number; applicationName?: string } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    extra: { max: options.poolSize ?? 20, application_name: options.applicationName ?? 'dizi' },
  });
}

// Any fixed number works; it only has to be the same in every process that migrates.
const MIGRATION_LOCK = 716_200_001;

/**
 * Applies pending migrations; concurrent starters wait on an advisory lock instead of racing. Needs a pool of at least
 * 2 (one connection holds the lock). A migration that rewrites many rows reports its progress to `onProgress`.
 */
export async function migrate(dataSource: DataSource, onProgress?: MigrationProgressListener): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await withMigrationProgress(onProgress, () => dataSource.runMigrations({ transaction: 'each' }));
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
