/**
 * Screenshots of every console page at desktop and phone width, in Simplified Chinese and English, for people
 * to look at (not a test). `node -r ./tools/register.cjs apps/portal/e2e/screens.ts [outDir]`; default .dizi/screens;
 * `SCREENS=dns,mailboxes` for only some pages.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startUnbound } from '@dizi/testing/unbound';
import { DEMO_ZONE } from './dns-zone';
import { startMailNode } from './mail-node';
import { DEMO_PASSWORD, passwordSignIn, ROOT, startStack } from './stack';

async function main(): Promise<void> {
  const out = process.argv[2] ?? join(ROOT, '.dizi/screens');
  mkdirSync(out, { recursive: true });
  const unbound = await startUnbound(DEMO_ZONE, ['test']);
  const stack = await startStack({}, { DNS_SERVERS: unbound.server });
  // A mail node for the nodes page.
  const node = await startMailNode(stack, { DNS_SERVERS: unbound.server });
  try {
    const tenant = (await stack.api('GET', '/api/tenants?q=Demo')).body.items[0];
    await stack.api('PATCH', `/api/tenants/${tenant.id}`, { maxDomains: 5, maxMailboxes: 5000, maxStorageBytes: 5 * 1024 ** 4 });
    for (const name of ['北京海淀科技', 'Acme Hosting', 'Beacon Mail']) await stack.api('POST', '/api/tenants', { name, maxDomains: 3, maxMailboxes: 200 });
    const [alice] = await stack.db.dataSource.query(`SELECT tenant_id, domain_id, password_hash FROM mailbox WHERE address = 'alice@demo.test'`);
    await stack.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, display_name, role, password_hash, quota_bytes, used_bytes)
       SELECT $1, $2, 'user' || n, 'user' || n || '@demo.test', '用户 ' || n, 'user', $3, 1073741824, (n * 7919 % 1000) * 1048576 FROM generate_series(1, 2000) n`,
      [alice.tenant_id, alice.domain_id, alice.password_hash],
    );
    // Two days of mail log so the charts have something to draw.
    await stack.db.dataSource.query(
      `INSERT INTO mail_log (at, level, kind, node, result, mail_from, recipients, reason)
       SELECT now() - (n * interval '7 minutes'), 'info', CASE WHEN n % 5 = 0 THEN 'outbound' ELSE 'session' END, 'mx1',
              CASE WHEN n % 5 = 0 THEN 'delivered' WHEN n % 7 = 0 THEN 'rejected' ELSE 'accepted' END,
              'sender' || (n % 9) || '@partner.test', ARRAY['alice@demo.test'], CASE WHEN n % 7 = 0 THEN '550 5.1.1 unknown recipient' ELSE '' END
         FROM generate_series(1, 900) n`,
    );
    // A queue with some mail waiting for a slow host, two entries held, and the audit events of holding them.
    for (let n = 1; n <= 6; n++) {
      const hash = `${'ab'.repeat(31)}${String(n).padStart(2, '0')}`;
      await stack.db.dataSource.query(`INSERT INTO blob (hash, size) VALUES ($1, 20480)`, [hash]);
      const [m] = await stack.db.dataSource.query(
        `INSERT INTO spool_message (blob_hash, size, mail_from, source, received_at) VALUES ($1, 20480, $2, 'submission', now() - make_interval(mins => $3)) RETURNING id`,
        [hash, `user${n}@demo.test`, n * 37],
      );
      await stack.db.dataSource.query(
        `INSERT INTO spool_recipient (message_id, address, kind, domain, status, attempts, last_attempt_at, next_attempt_at, last_error)
         VALUES ($1, $2, 'remote', 'slow.example', 'deferred', $3, now(), now() + interval '20 minutes', '451 4.4.1 slow.example: connection timed out')`,
        [m.id, `客户${n}@slow.example`, n],
      );
    }
    // Aliases, a catch-all, a group with members, a public address book, a registration code and an API key.
    await stack.api('POST', '/api/aliases', { address: 'sales@demo.test', destinations: ['alice@demo.test', 'bob@demo.test'] });
    await stack.api('POST', '/api/aliases', { address: '*@demo.test', destinations: ['admin@demo.test'] });
    await stack.api('POST', '/api/groups', { address: 'team@demo.test', name: '项目组 Project team', postingPolicy: 'members', members: ['alice@demo.test', 'bob@demo.test', 'user1@demo.test'] });
    const book = (await stack.api('POST', '/api/address-books', { domain: 'demo.test', name: 'demo.test 通讯录' })).body;
    await stack.api('POST', `/api/address-books/${book.id}/contacts`, { displayName: '王芳', email: 'wang.fang@partner.test', phone: '+86 10 1234 5678', organization: '合作伙伴' });
    await stack.api('POST', `/api/address-books/${book.id}/contacts`, { displayName: 'Sam Lee', email: 'sam.lee@partner.test', organization: 'Partner Ltd', title: 'Sales' });
    await stack.api('POST', '/api/registration-codes', { domain: 'newco.example', maxDomains: 2, maxMailboxes: 50 });
    await stack.api('POST', '/api/api-keys', { name: 'billing-sync', role: 'operator' });
    const queued = (await stack.api('GET', '/api/queue?limit=2')).body.items.map((e: { id: string }) => e.id);
    await stack.api('POST', '/api/queue/actions', { action: 'hold', ids: queued });
    const pages: [string, string, 'operator' | 'admin'][] = [
      ['dashboard', '/ops', 'operator'],
      ['tenants', '/ops/tenants', 'operator'],
      ['tenant', `/ops/tenants/${tenant.id}`, 'operator'],
      ['domains', '/admin', 'admin'],
      ['mailboxes', '/admin/domains/demo.test', 'admin'],
      ['queue', '/ops/queue', 'operator'],
      ['audit', '/ops/audit', 'operator'],
      ['nodes', '/ops/nodes', 'operator'],
      ['dns', '/admin/domains/demo.test/dns', 'admin'],
      ['import', '/admin/domains/demo.test/import', 'admin'],
      ['aliases', '/admin/domains/demo.test/aliases', 'admin'],
      ['groups', '/admin/domains/demo.test/groups', 'admin'],
      ['group', '/admin/domains/demo.test/groups/team%40demo.test', 'admin'],
      ['address-book', '/admin/domains/demo.test/address-book', 'admin'],
      ['domain-settings', '/admin/domains/demo.test/settings', 'admin'],
      ['settings', '/ops/settings', 'operator'],
      ['templates', '/ops/settings/templates', 'operator'],
      ['codes', '/ops/settings/codes', 'operator'],
      ['api-keys', '/ops/settings/api-keys', 'operator'],
    ];
    // SCREENS=dns,mailboxes shoots only those pages.
    const only = process.env.SCREENS?.split(',').filter(Boolean);
    if (only) pages.splice(0, pages.length, ...pages.filter((p) => only.includes(p[0])));
    for (const locale of ['zh-CN', 'en']) {
      for (const [device, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
        const context = await stack.browser.newContext({ locale, viewport, deviceScaleFactor: 1 });
        await context.addCookies([{ name: 'dizi_locale', value: locale, url: stack.portalUrl }]);
        const page = await context.newPage();
        await page.goto(`${stack.portalUrl}/sign-in`);
        await page.waitForLoadState('networkidle');
        await page.screenshot({ path: join(out, `sign-in-${locale}-${device}.png`), fullPage: true });
        for (const role of ['operator', 'admin'] as const) {
          await context.clearCookies();
          await context.addCookies([{ name: 'dizi_locale', value: locale, url: stack.portalUrl }]);
          if (role === 'operator') await passwordSignIn(page, stack.portalUrl, 'operator', DEMO_PASSWORD, 'operator');
          else await passwordSignIn(page, stack.portalUrl, 'admin@demo.test', DEMO_PASSWORD);
          for (const [name, path] of pages.filter((p) => p[2] === role).map((p) => [p[0], p[1]])) {
            await page.goto(`${stack.portalUrl}${path}`);
            await page.waitForLoadState('networkidle');
            // Charts are drawn in the browser after hydration: wait for every one to finish, not a fixed time.
            await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="chart"]')].every((c) => c.getAttribute('data-chart') === 'drawn'), undefined, { timeout: 60_000 });
            const file = join(out, `${name}-${locale}-${device}.png`);
            if (name === 'import') {
              // The import page after a file of 60 rows (two of them bad) went through: counts and the report.
              const rows = ['address,display name,quota,password'];
              for (let n = 1; n <= 60; n++) rows.push(n % 30 === 0 ? `bad row ${n},x,1M,y` : `import${locale}${device}${n}@demo.test,导入 ${n},100M,Import-pass-${n}`);
              await page.getByTestId('import-file').setInputFiles({ name: 'mailboxes.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
              await page.waitForTimeout(500); // antd's buttons fade from disabled to enabled
              await page.screenshot({ path: join(out, `import-preview-${locale}-${device}.png`), fullPage: true });
              await page.getByTestId('import-start').click();
              await page.locator('[data-testid="import-progress"]:not([data-status="running"])').waitFor({ timeout: 180_000 });
              await page.locator('tr[data-line], [role="alert"]').first().waitFor();
            }
            await page.screenshot({ path: file, fullPage: true });
            console.log(file);
          }
        }
        await context.close();
      }
    }
  } finally {
    await node.stop();
    await stack.close();
    await unbound.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
