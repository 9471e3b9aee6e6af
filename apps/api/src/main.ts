/** API process entry: validate config, migrate, seed the demo tenant when asked, serve. */
import 'reflect-metadata';
import { loadApiConfig } from '@dizi/config/api.config';
import { createDataSource, migrate } from '@dizi/db/data-source';
import { createApiApp } from './bootstrap';
import { createRootLogger } from './common/pino-logger';
import { DomainsService } from './modules/domains/domains.service';
import { seedDemo, SYSTEM_ACTOR } from './seed/demo-seed';

async function main(): Promise<void> {
  const config = loadApiConfig();
  const logger = createRootLogger(config.LOG_LEVEL);
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set (npm start sets it, with an embedded PostgreSQL when none is given)');
  const dataSource = createDataSource(config.DATABASE_URL, { applicationName: 'dizi-api' });
  await dataSource.initialize();
  const applied = await migrate(dataSource, (p) => logger.info(p, 'migration progress'));
  if (applied.length) logger.info({ migrations: applied }, 'migrations applied');

  const { app } = await createApiApp(config, dataSource, logger);
  await app.init();
  if (config.DIZI_DEMO) {
    const domains = app.get(DomainsService);
    const accounts = await seedDemo(dataSource, config.DIZI_DEMO_PASSWORD, async (tenantId, name) => (await domains.create(SYSTEM_ACTOR, null, { tenantId, name })).id);
    const fresh = accounts.filter((a) => a.password);
    // Printed on stdout, not logged: passwords must never reach the log pipeline.
    if (fresh.length) {
      process.stdout.write(`\nDemo accounts (tenant "Demo", domain demo.test) / 演示账号:\n`);
      for (const a of accounts) process.stdout.write(`  ${a.role.padEnd(13)} ${a.username.padEnd(18)} ${a.password ?? '(unchanged; set DIZI_DEMO_PASSWORD to reset)'}\n`);
      process.stdout.write('\n');
    } else {
      logger.info('demo accounts exist; their passwords were printed at first start (set DIZI_DEMO_PASSWORD to reset them)');
    }
  }
  await app.listen(config.API_PORT, config.API_HOST);
  logger.info({ url: `http://${config.API_HOST}:${config.API_PORT}/api/docs` }, 'API listening; OpenAPI at /api/docs');
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
