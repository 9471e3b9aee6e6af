/**
 * The consoles in Chromium against the real API, PostgreSQL and a local OpenID Connect issuer, one block per
 * role (operator, tenant admin, domain admin) sharing one stack to keep the run short. Every page visited is
 * checked with axe-core for serious and critical violations.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startUnbound, Unbound } from '@dizi/testing/unbound';
import { seriousViolations } from './axe';
import { DEMO_ZONE, DEMO_ZONE_VERDICTS } from './dns-zone';
import { MailNode, smtpDialogue, startMailNode } from './mail-node';
import { DEMO_PASSWORD, passwordSignIn, Stack, startStack } from './stack';

const GB = 1024 ** 3;
// A browser, the API and the portal on two shared cores: pages take seconds, not milliseconds.
vi.setConfig({ testTimeout: 180_000 });
let stack: Stack;
let unbound: Unbound;
let mailNode: MailNode | undefined;
let beacon: { id: string };
let demoTenantId: string;

async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  return { context, page: await context.newPage() };
}

async function expectAccessible(page: Page) {
  await page.waitForLoadState('networkidle');
  expect(await seriousViolations(page)).toEqual([]);
}

beforeAll(async () => {
  // The resolver the API's DNS check asks: every *.test name is answered locally, demo.test from DEMO_ZONE.
  unbound = await startUnbound(DEMO_ZONE, ['test']);
  stack = await startStack({}, { DNS_SERVERS: unbound.server });
  const tenants = await stack.api('GET', '/api/tenants?q=Demo');
  demoTenantId = tenants.body.items[0].id;
  beacon = (await stack.api('POST', '/api/tenants', { name: 'Beacon', plan: 'standard' })).body;
  await stack.api('POST', '/api/domains', { name: 'beacon.test', tenantId: beacon.id });
  await stack.api('POST', '/api/mailboxes', { address: 'boss@beacon.test', password: DEMO_PASSWORD, role: 'tenant_admin' });
  await stack.api('POST', '/api/domains', { name: 'second.test', tenantId: demoTenantId });
  const tina = await stack.api('POST', '/api/mailboxes', { address: 'tina@demo.test', password: DEMO_PASSWORD, role: 'tenant_admin' });
  expect(tina.status).toBe(201);
}, 900_000);

afterAll(async () => {
  await mailNode?.stop();
  await stack?.close();
  await unbound?.stop();
});

describe('operator', () => {
  it('signs in through the OIDC issuer (authorization code with PKCE), lands on the dashboard, and the sign-in is audited', async () => {
    const { context, page } = await newPage();
    await page.goto(`${stack.portalUrl}/sign-in`);
    await page.getByTestId('sso').click();
    await page.waitForURL((u) => u.href.startsWith(stack.issuerUrl));
    expect(new URL(page.url()).searchParams.get('code_challenge_method') ?? 'S256').toBe('S256');
    await page.locator('input[name="login"]').fill('olga');
    await page.locator('input[name="password"]').fill('anything');
    await Promise.all([page.waitForURL(`${stack.portalUrl}/ops`), page.locator('button[type="submit"]').click()]);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Dashboard');
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('olga');
    const cookie = (await context.cookies()).find((c) => c.name === 'dizi_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    // Sealed: no readable JWT (base64url JSON header and payload, dot-separated) in the cookie. A bare 'eyJ' can occur
    // in random sealed bytes (about one cookie in a hundred), a header.payload pair cannot.
    expect(decodeURIComponent(cookie.value)).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
    await expectAccessible(page);
    const audit = await stack.api('GET', '/api/audit?action=auth.oidc.login');
    expect(audit.body.items[0].actor).toMatchObject({ kind: 'oidc', name: 'olga', role: 'operator' });
    // The mail log and the queue, from the menu.
    await page.getByRole('link', { name: 'Mail log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mail log' }).waitFor();
    await expectAccessible(page);
    await page.getByRole('link', { name: 'Queue' }).click();
    await page.getByRole('heading', { level: 1, name: 'Queue' }).waitFor();
    expect(await page.getByText('The queue is empty.').count()).toBe(1);
    await expectAccessible(page);
    await context.close();
  });

  it('draws the dashboard charts from the mail log, keeps their names, and gives their figures as tables', async () => {
    // Three hours ago: 3 received, 2 sent out, 1 refused, all in one UTC hour.
    const [{ hour }] = await stack.db.dataSource.query(`SELECT to_char(date_trunc('hour', now() AT TIME ZONE 'UTC') - interval '3 hours', 'YYYY-MM-DD HH24:MI') AS hour`);
    await stack.db.dataSource.query(
      `INSERT INTO mail_log (at, level, kind, node, result, mail_from, recipients, reason)
       SELECT date_trunc('hour', now(), 'UTC') - interval '3 hours' + n * interval '1 minute', 'info', k, 'mx1', r, 'chart@partner.test', ARRAY['alice@demo.test'], ''
         FROM (VALUES (1, 'session', 'accepted'), (2, 'session', 'accepted'), (3, 'session', 'accepted'),
                      (4, 'outbound', 'delivered'), (5, 'outbound', 'delivered'), (6, 'session', 'rejected')) v(n, k, r)`,
    );
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'operator', DEMO_PASSWORD, 'operator');
    await page.goto(`${stack.portalUrl}/ops`);
    for (const name of ['Mail per hour, last 48 hours', 'Queue size per hour', 'Mail per day, last 30 days']) {
      // The chart keeps its own name (ECharts' aria option used to replace it with an English sentence).
      const chart = page.getByRole('img', { name, exact: true });
      await chart.and(page.locator('[data-chart="drawn"]')).waitFor({ timeout: 60_000 });
      // Drawn series: SVG paths in the series' colours, not only axes and grid lines.
      const colours = await chart.locator('svg path').evaluateAll((paths) => paths.map((p) => `${p.getAttribute('stroke')} ${p.getAttribute('fill')}`));
      const series = name.startsWith('Queue') ? ['#b26a00'] : ['#1557b0', '#2e7d32', '#c62828'];
      for (const colour of series) expect(colours.filter((c) => c.includes(colour)).length, `${name}: ${colour}`).toBeGreaterThan(0);
    }
    // The figures as tables, in the server's HTML, for screen readers and axe.
    const perHour = page.getByRole('table', { name: 'Mail per hour, last 48 hours' });
    expect(await perHour.getByRole('row').count()).toBe(1 + 48);
    const row = perHour.getByRole('row', { name: new RegExp(`^${hour} `) });
    expect(await row.getByRole('cell').allTextContents()).toEqual(['3', '2', '1']);
    expect(await page.getByRole('table', { name: 'Mail per day, last 30 days' }).getByRole('row').count()).toBeGreaterThan(1);
    await expectAccessible(page);
    await context.close();
  });

  it('creates a tenant with limits and a domain, then suspends it with the sentence about mail', async () => {
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'operator', DEMO_PASSWORD, 'operator');
    await page.goto(`${stack.portalUrl}/ops/tenants`);
    await expectAccessible(page);
    await page.getByRole('button', { name: 'New tenant' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('Cobalt Mail');
    await dialog.getByLabel('Max domains').fill('2');
    await dialog.getByLabel('Max mailboxes').fill('100');
    await dialog.getByLabel('Max storage (GB)').fill('5');
    await Promise.all([page.waitForURL(/\/ops\/tenants\/[0-9a-f-]{36}$/), dialog.getByRole('button', { name: 'Create' }).click()]);
    const tenantId = page.url().split('/').pop()!;
    const created = await stack.api('GET', `/api/tenants/${tenantId}`);
    expect(created.body).toMatchObject({ name: 'Cobalt Mail', status: 'active', maxDomains: 2, maxMailboxes: 100, maxStorageBytes: 5 * GB });
    await page.getByText('0 of 2').waitFor();

    await page.getByLabel('Domain name').fill('cobalt.test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByRole('link', { name: 'cobalt.test' }).waitFor();
    expect((await stack.api('GET', '/api/domains/cobalt.test')).body.tenantId).toBe(tenantId);
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Suspend tenant' }).click();
    const confirm = page.getByRole('dialog');
    expect(await confirm.textContent()).toContain('mail to its addresses is refused during the SMTP conversation (RCPT TO)');
    await confirm.getByRole('button', { name: 'Suspend tenant' }).click();
    await page.getByTestId('tenant-status').filter({ hasText: 'Suspended' }).waitFor();
    expect((await stack.api('GET', `/api/tenants/${tenantId}`)).body.status).toBe('suspended');
    await context.close();
  });

  it("runs the issue's first flow: OIDC sign-in, a tenant with limits, a domain, 1,000 mailboxes from CSV with progress, mail to one in the log, suspension refusing mail at RCPT", async () => {
    const starting = startMailNode(stack, { DNS_SERVERS: unbound.server });
    const { context, page } = await newPage();
    await page.goto(`${stack.portalUrl}/sign-in`);
    await page.getByTestId('sso').click();
    await page.locator('input[name="login"]').fill('olga');
    await page.locator('input[name="password"]').fill('anything');
    await Promise.all([page.waitForURL(`${stack.portalUrl}/ops`), page.locator('button[type="submit"]').click()]);

    await page.getByRole('link', { name: 'Tenants' }).click();
    await page.getByRole('button', { name: 'New tenant' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name').fill('Delta Mail');
    await dialog.getByLabel('Max domains').fill('1');
    await dialog.getByLabel('Max mailboxes').fill('1200');
    await dialog.getByLabel('Max storage (GB)').fill('20');
    await Promise.all([page.waitForURL(/\/ops\/tenants\/[0-9a-f-]{36}$/), dialog.getByRole('button', { name: 'Create' }).click()]);
    const tenantUrl = page.url();
    const tenantId = tenantUrl.split('/').pop()!;
    await page.getByLabel('Domain name').fill('delta.test');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByRole('link', { name: 'delta.test' }).click();
    await page.getByRole('link', { name: 'Import CSV' }).click();
    await page.getByRole('heading', { level: 1, name: 'Import mailboxes into delta.test' }).waitFor();
    await expectAccessible(page);

    // 1,000 good rows (one in five with a password to hash, the rest with an {SSHA} hash) and two bad ones.
    const ssha = (password: string) => {
      const salt = randomBytes(8);
      return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
    };
    const lines = ['address,display name,quota,password'];
    for (let n = 1; n <= 1000; n++) {
      const local = `u${String(n).padStart(4, '0')}`;
      lines.push(`${local}@delta.test,User ${n},10M,${n % 5 === 0 ? `Pass-word-${n}` : ssha(`Pass-word-${n}`)}`);
      if (n === 400) lines.push('not an address,Broken,10M,Pass-word-x');
    }
    lines.push('outsider@elsewhere.test,Elsewhere,10M,Pass-word-y');
    await page.getByTestId('import-file').setInputFiles({ name: 'delta.csv', mimeType: 'text/csv', buffer: Buffer.from(lines.join('\n')) });
    expect(await page.getByTestId('import-file-name').textContent()).toBe('delta.csv: 1,002 rows');
    expect((await page.getByTestId('import-preview').textContent())!.split('\n')[0]).toMatch(/^u0001@delta\.test,User 1,10M,\{SSHA\}/);

    // Watch the progress bar as the job reports: every value it showed, until done.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => {
        const bar = document.querySelector('[data-testid="import-progress"]');
        const v = bar && `${bar.getAttribute('data-processed')}/${bar.getAttribute('data-status')}`;
        if (v && seen[seen.length - 1] !== v) seen.push(v);
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    });
    await page.getByTestId('import-start').click();
    await page.locator('[data-testid="import-progress"][data-status="done"]').waitFor({ timeout: 170_000 });
    const seen: string[] = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
    const during = seen.filter((v) => v.endsWith('/running')).map((v) => Number(v.split('/')[0]));
    expect(during.some((n) => n > 0 && n < 1002), `progress seen: ${seen.join(' ')}`).toBe(true);
    expect(during).toEqual([...during].sort((a, b) => a - b));
    expect(await page.getByTestId('import-counts').textContent()).toBe('Done: 1000 created, 0 skipped, 2 failed.');
    expect(await page.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
    // The report lists the two failed lines with why; the download has every line.
    await page.locator('tr[data-line]').first().waitFor();
    expect(await page.locator('tr[data-line]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-line')))).toEqual(['402', '1003']);
    expect(await page.locator('tr[data-line="1003"]').textContent()).toContain('outsider@elsewhere.test');
    await expectAccessible(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('import-download').click()]);
    const report = (await readFile((await download.path())!, 'utf8')).trim().split('\r\n');
    expect(report[0]).toBe('line,address,outcome,reason');
    expect(report).toHaveLength(1 + 1002);
    expect(report.filter((l) => l.includes(',created,'))).toHaveLength(1000);
    expect(report.find((l) => l.startsWith('1003,'))).toMatch(/^1003,outsider@elsewhere\.test,failed,.+/);
    const [{ n }] = await stack.db.dataSource.query(`SELECT count(*)::int AS n FROM mailbox m JOIN domain d ON d.id = m.domain_id WHERE d.name = 'delta.test'`);
    expect(n).toBe(1000);

    // Mail to one of them over SMTP, then the operator finds it in the mail log.
    mailNode = await starting;
    const sent = await smtpDialogue(mailNode.smtpPort, [
      'EHLO client.partner.test', 'MAIL FROM:<someone@partner.test>', 'RCPT TO:<u0042@delta.test>', 'DATA',
      'From: someone@partner.test\r\nTo: u0042@delta.test\r\nSubject: welcome\r\n\r\nHello.\r\n.', 'QUIT',
    ]);
    expect(sent.slice(1, 5).map((r) => r.slice(0, 3))).toEqual(['250', '250', '250', '354']);
    expect(sent[5]).toMatch(/^250 /);
    await page.getByRole('link', { name: 'Mail log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mail log' }).waitFor();
    await expect
      .poll(
        async () => {
          await page.goto(`${stack.portalUrl}/ops/logs?q=u0042%40delta.test`);
          return page.locator('tbody tr', { hasText: 'u0042@delta.test' }).count();
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBeGreaterThan(0);
    expect(await page.locator('tbody tr', { hasText: 'u0042@delta.test' }).first().textContent()).toContain('someone@partner.test');

    // Suspend the tenant; then the node refuses mail to its addresses at RCPT.
    await page.goto(tenantUrl);
    await page.getByRole('button', { name: 'Suspend tenant' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Suspend tenant' }).click();
    await page.getByTestId('tenant-status').filter({ hasText: 'Suspended' }).waitFor();
    expect((await stack.api('GET', `/api/tenants/${tenantId}`)).body.status).toBe('suspended');
    await expect
      .poll(async () => (await smtpDialogue(mailNode!.smtpPort, ['EHLO client.partner.test', 'MAIL FROM:<someone@partner.test>', 'RCPT TO:<u0043@delta.test>', 'QUIT']))[3], {
        timeout: 20_000,
        interval: 500,
      })
      .toMatch(/^5\d\d /);
    await context.close();
  });

  it('shows the mail nodes from their heartbeats: the running node up with its roles and the SMTP connection it holds', async () => {
    mailNode ??= await startMailNode(stack, { DNS_SERVERS: unbound.server });
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'operator', DEMO_PASSWORD, 'operator');
    await page.getByRole('link', { name: 'Mail nodes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mail nodes' }).waitFor();
    const row = page.locator('tr[data-node="mx.dizi.test"]');
    expect(await row.getAttribute('data-status')).toBe('up');
    expect(await row.textContent()).toContain('SMTPDelivery');
    await expectAccessible(page);
    // A client holds an SMTP connection open: within a heartbeat or two the page counts it.
    const client = connect(mailNode.smtpPort, '127.0.0.1');
    await new Promise<void>((r) => client.once('data', () => r()));
    try {
      await expect.poll(() => row.getByTestId('connections-smtp').textContent(), { timeout: 30_000, interval: 1000 }).toBe('1');
    } finally {
      client.destroy();
    }
    await expect.poll(() => row.getByTestId('connections-smtp').textContent(), { timeout: 30_000, interval: 1000 }).toBe('0');
    expect(await page.getByTestId('nodes-summary').textContent()).toMatch(/^1 of 1 nodes up/);
    await context.close();
  });

  it('acts on the queue: details of an entry, hold and release several, delete one after confirming', async () => {
    const sql = (text: string, params: unknown[] = []) => stack.db.dataSource.query(text, params);
    const ids: Record<string, string> = {};
    for (const [n, address] of ['slow1@far.test', 'slow2@far.test', 'slow3@far.test'].entries()) {
      const hash = randomBytes(32).toString('hex');
      await sql(`INSERT INTO blob (hash, size) VALUES ($1, 2048)`, [hash]);
      const [m] = await sql(
        `INSERT INTO spool_message (blob_hash, size, mail_from, source, received_at) VALUES ($1, 2048, 'news@partner.test', 'smtp', now() - make_interval(mins => $2)) RETURNING id`,
        [hash, 120 - n],
      );
      const [r] = await sql(
        `INSERT INTO spool_recipient (message_id, address, kind, domain, status, attempts, last_attempt_at, next_attempt_at, last_error, last_reply)
         VALUES ($1, $2, 'remote', 'far.test', 'deferred', 4, now(), now() + interval '1 hour', '451 4.4.1 far.test did not answer', '451 4.4.1 no answer') RETURNING id::text`,
        [m.id, address],
      );
      ids[address] = r.id;
    }
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'operator', DEMO_PASSWORD, 'operator');
    await page.goto(`${stack.portalUrl}/ops/queue?domain=far.test`);
    await page.locator('tr[data-entry="slow1@far.test"]').waitFor();
    expect(await page.locator('tr[data-entry]').count()).toBe(3);
    await expectAccessible(page);

    // Details: the envelope, attempts and last error.
    await page.getByRole('button', { name: 'Details of slow1@far.test' }).click();
    const detail = page.getByTestId('queue-detail');
    await detail.waitFor();
    const text = await detail.textContent();
    for (const part of ['news@partner.test', 'slow1@far.test', '451 4.4.1 far.test did not answer', 'Attempts4']) expect(text).toContain(part);
    await expectAccessible(page);
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    // Hold two at once.
    await page.getByRole('checkbox', { name: 'Select slow1@far.test' }).check();
    await page.getByRole('checkbox', { name: 'Select slow2@far.test' }).check();
    expect(await page.getByTestId('queue-bulk').textContent()).toContain('2 entries selected');
    await page.getByTestId('queue-bulk').getByRole('button', { name: 'Hold' }).click();
    await page.getByText('2 entries held: not tried until released.').waitFor();
    // The page re-reads the queue from the server after the action: seconds on a loaded machine.
    await expect.poll(() => page.locator('tr[data-entry]', { hasText: 'Held' }).count(), { timeout: 60_000 }).toBe(2);
    const held = await sql(`SELECT address FROM spool_recipient WHERE held_at IS NOT NULL AND next_attempt_at = 'infinity' ORDER BY address`);
    expect(held.map((r: { address: string }) => r.address)).toEqual(['slow1@far.test', 'slow2@far.test']);
    await page.goto(`${stack.portalUrl}/ops/queue?domain=far.test&held=true`);
    await expect.poll(() => page.locator('tr[data-entry]').count()).toBe(2);

    // Release one from its details.
    await page.getByRole('button', { name: 'Details of slow2@far.test' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Release' }).click();
    await page.getByText('1 entry released and tried again.').waitFor();
    const [slow2] = await sql(`SELECT held_at, next_attempt_at <= now() AS due FROM spool_recipient WHERE id = $1`, [ids['slow2@far.test']]);
    expect(slow2).toEqual({ held_at: null, due: true });
    await page.getByRole('dialog').getByRole('button', { name: 'Close' }).click();

    // Delete one, confirmed.
    await page.goto(`${stack.portalUrl}/ops/queue?domain=far.test`);
    await page.getByRole('checkbox', { name: 'Select slow3@far.test' }).check();
    await page.getByTestId('queue-bulk').getByRole('button', { name: 'Delete' }).click();
    expect(await page.getByRole('tooltip').textContent()).toContain('no bounce is sent');
    await page.getByRole('tooltip').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('1 entry deleted.').waitFor();
    const [slow3] = await sql(`SELECT status FROM spool_recipient WHERE id = $1`, [ids['slow3@far.test']]);
    expect(slow3.status).toBe('deleted');
    const audit = await stack.api('GET', '/api/audit?action=queue.hold');
    expect(audit.body.items.map((e: { objectId: string }) => e.objectId).sort()).toEqual([ids['slow1@far.test'], ids['slow2@far.test']].sort());

    // The same actions on the audit log page, newest first, each with what changed.
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await page.getByLabel('Action', { exact: true }).fill('queue.*');
    await page.getByLabel('Action', { exact: true }).press('Enter');
    await page.waitForURL(/action=queue\.\*/);
    await expect.poll(() => page.locator('tr[data-action]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')))).toEqual(['queue.delete', 'queue.release', 'queue.hold', 'queue.hold']);
    const release = page.locator('tr[data-action="queue.release"]');
    expect(await release.textContent()).toContain(`spool_recipient ${ids['slow2@far.test']}`);
    expect(await release.textContent()).toContain('operator (Operator)');
    await release.getByRole('button', { name: /expand/i }).click();
    expect(await page.locator('.audit-change').first().textContent()).toContain('heldAt');
    await expectAccessible(page);
    await context.close();
  });

  it('refuses an issuer account without a Dizi role, saying why', async () => {
    const { context, page } = await newPage();
    await page.goto(`${stack.portalUrl}/sign-in`);
    await page.getByTestId('sso').click();
    await page.locator('input[name="login"]').fill('nobody');
    await page.locator('input[name="password"]').fill('anything');
    await Promise.all([page.waitForURL(/\/sign-in\?error=oidc_no_role/), page.locator('button[type="submit"]').click()]);
    expect(await page.locator('.ant-alert').textContent()).toContain('no Dizi administrator role');
    expect((await context.cookies()).some((c) => c.name === 'dizi_session')).toBe(false);
    await context.close();
  });

  it('keeps a wrong password on the sign-in page, in both languages, and audits it', async () => {
    const { context, page } = await newPage();
    await page.goto(`${stack.portalUrl}/sign-in`);
    await expectAccessible(page);
    await page.locator('#username').fill('admin@demo.test');
    await page.locator('#password').fill('not-the-password');
    await Promise.all([page.waitForURL(/error=credentials/), page.locator('form[action="/auth/sign-in"] button[type=submit]').click()]);
    expect(await page.locator('.ant-alert').textContent()).toContain('Wrong name or password');
    await context.addCookies([{ name: 'dizi_locale', value: 'zh-CN', url: stack.portalUrl }]);
    await page.reload();
    expect(await page.locator('.ant-alert').textContent()).toContain('账号或密码错误');
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    const failed = await stack.api('GET', '/api/audit?action=auth.login.failed');
    expect(failed.body.items.some((e: any) => e.actor.name === 'admin@demo.test')).toBe(true);
    await context.close();
  });
});

describe('tenant admin', () => {
  it("sees only the tenant's domains, and another tenant's by URL is not found", async () => {
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'tina@demo.test', DEMO_PASSWORD);
    expect(new URL(page.url()).pathname).toBe('/admin');
    const names = await page.locator('table a').allTextContents();
    expect(names.sort()).toEqual(['demo.test', 'second.test']);
    await expectAccessible(page);

    const r = await page.goto(`${stack.portalUrl}/admin/domains/beacon.test`);
    expect(r?.status()).toBe(404);
    await page.goto(`${stack.portalUrl}/ops/tenants/${beacon.id}`);
    expect(new URL(page.url()).pathname).toBe('/admin');
    await context.close();
  });

  it('cannot read or change tenant B by replaying API calls through the portal, and cross-site changes are refused', async () => {
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'tina@demo.test', DEMO_PASSWORD);
    const replay = await page.evaluate(async (id) => {
      const get = (p: string) => fetch(p).then((r) => r.status);
      const post = (p: string) => fetch(p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status);
      return {
        tenant: await get(`/bff/api/tenants/${id}`),
        domain: await get('/bff/api/domains/beacon.test'),
        mailboxes: await get('/bff/api/mailboxes?domain=beacon.test'),
        suspend: await post(`/bff/api/tenants/${id}/suspend`),
        create: await fetch('/bff/api/mailboxes', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: 'evil@beacon.test', password: 'Evil-password-1' }) }).then((r) => r.status),
        signInRelay: await post('/bff/api/auth/login'),
      };
    }, beacon.id);
    expect(replay).toEqual({ tenant: 404, domain: 404, mailboxes: 404, suspend: 404, create: 404, signInRelay: 403 });
    expect((await stack.api('GET', `/api/tenants/${beacon.id}`)).body.status).toBe('active');

    // The same session cookie from another site: refused before it reaches the API.
    const cookie = (await context.cookies()).find((c) => c.name === 'dizi_session')!;
    const forged = (origin?: string, type = 'application/json') =>
      fetch(`${stack.portalUrl}/bff/api/mailboxes`, {
        method: 'POST',
        headers: { cookie: `dizi_session=${cookie.value}`, 'content-type': type, ...(origin ? { origin } : {}) },
        body: JSON.stringify({ address: 'csrf@demo.test', password: 'Csrf-password-1' }),
      }).then((r) => r.status);
    expect(await forged('http://evil.test')).toBe(403);
    expect(await forged(undefined)).toBe(403);
    expect(await forged(stack.portalUrl, 'text/plain')).toBe(403);
    expect((await stack.api('GET', '/api/mailboxes?q=csrf')).body.items).toEqual([]);
    await context.close();
  });

  it("cannot check DNS of, import into, export, follow the imports of, or touch the queue of tenant B, by URL or by replaying /bff/api calls", async () => {
    // Tenant B (Beacon) has an import job and a queued message of its own.
    const started = await fetch(`${stack.apiUrl}/api/domains/beacon.test/mailboxes/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.operatorToken}`, 'content-type': 'text/csv' },
      body: 'staff@beacon.test,Staff,10M,Staff-password-1\n',
    });
    expect(started.status).toBe(202);
    const { jobId } = (await started.json()) as { jobId: string };
    await expect.poll(async () => (await stack.api('GET', `/api/imports/${jobId}`)).body.status, { timeout: 30_000 }).toBe('done');
    const hash = randomBytes(32).toString('hex');
    await stack.db.dataSource.query(`INSERT INTO blob (hash, size) VALUES ($1, 10)`, [hash]);
    const [m] = await stack.db.dataSource.query(`INSERT INTO spool_message (blob_hash, size, mail_from, source) VALUES ($1, 10, 'x@partner.test', 'smtp') RETURNING id`, [hash]);
    const [entry] = await stack.db.dataSource.query(
      `INSERT INTO spool_recipient (message_id, address, kind, domain, next_attempt_at) VALUES ($1, 'staff@beacon.test', 'local', 'beacon.test', now() + interval '1 hour') RETURNING id::text`,
      [m.id],
    );
    const fingerprint = () =>
      stack.db.dataSource.query(
        `SELECT (SELECT count(*)::int FROM mailbox mb JOIN domain d ON d.id = mb.domain_id WHERE d.name = 'beacon.test') AS mailboxes,
                (SELECT held_at IS NULL AND status = 'queued' FROM spool_recipient WHERE id = $1) AS untouched,
                (SELECT count(*)::int FROM import_job WHERE tenant_id = $2) AS jobs`,
        [entry.id, beacon.id],
      );
    const before = await fingerprint();

    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'tina@demo.test', DEMO_PASSWORD);
    for (const path of ['/admin/domains/beacon.test/dns', '/admin/domains/beacon.test/import']) {
      expect((await page.goto(`${stack.portalUrl}${path}`))?.status(), path).toBe(404);
    }
    for (const path of ['/ops/queue', '/ops/audit', `/ops/tenants/${beacon.id}`]) {
      await page.goto(`${stack.portalUrl}${path}`);
      expect(new URL(page.url()).pathname, path).toBe('/admin');
    }
    const replay = await page.evaluate(
      async ({ jobId, entryId, tenantId }) => {
        const get = (p: string) => fetch(p).then((r) => r.status);
        const send = (p: string, body: string, type = 'application/json') => fetch(p, { method: 'POST', headers: { 'content-type': type }, body }).then((r) => r.status);
        return {
          dns: await get('/bff/api/domains/beacon.test/dns'),
          dnsCheck: await get('/bff/api/domains/beacon.test/dns/check'),
          importInto: await send('/bff/api/domains/beacon.test/mailboxes/import', 'evil@beacon.test,Evil,10M,Evil-password-1\n', 'text/csv'),
          export: await get('/bff/api/domains/beacon.test/mailboxes/export'),
          job: await get(`/bff/api/imports/${jobId}`),
          jobRows: await get(`/bff/api/imports/${jobId}/rows`),
          queueEntry: await get(`/bff/api/queue/${entryId}`),
          queueHold: await send(`/bff/api/queue/${entryId}/hold`, ''),
          queueActions: await send('/bff/api/queue/actions', JSON.stringify({ action: 'delete', ids: [entryId] })),
          audit: await get(`/bff/api/audit?tenantId=${tenantId}`),
        };
      },
      { jobId, entryId: entry.id, tenantId: beacon.id },
    );
    expect(replay).toEqual({ dns: 404, dnsCheck: 404, importInto: 404, export: 404, job: 404, jobRows: 404, queueEntry: 404, queueHold: 404, queueActions: 403, audit: 404 });
    expect(await fingerprint()).toEqual(before);
    expect(before).toEqual([{ mailboxes: 2, untouched: true, jobs: 1 }]);
    await context.close();
  });
});

describe('domain admin', () => {
  it('browses a domain of thousands of mailboxes with virtual scrolling and search', async () => {
    const [alice] = await stack.db.dataSource.query(`SELECT tenant_id, domain_id, password_hash FROM mailbox WHERE address = 'alice@demo.test'`);
    await stack.db.dataSource.query(
      `INSERT INTO mailbox (tenant_id, domain_id, local_part, address, role, password_hash, quota_bytes)
       SELECT $1, $2, 'u' || lpad(n::text, 5, '0'), 'u' || lpad(n::text, 5, '0') || '@demo.test', 'user', $3, 1048576 FROM generate_series(1, 3000) n`,
      [alice.tenant_id, alice.domain_id, alice.password_hash],
    );
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'admin@demo.test', DEMO_PASSWORD);
    expect(await page.locator('table a').allTextContents()).toEqual(['demo.test']);
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test`);
    const addresses = page.getByTestId('mailbox-address');
    await addresses.first().waitFor();
    // 3,000 + admin, alice, bob and tina, counted exactly by the API's index.
    expect(await page.getByTestId('mailbox-count').textContent()).toBe('3,004 mailboxes');
    // Only the rows in view (plus overscan) are in the document, not 3,000.
    expect(await page.getByRole('listitem').count()).toBeLessThan(60);
    await expectAccessible(page);

    // Scrolling to the end fetches the following pages from the API.
    const list = page.getByTestId('mailbox-list');
    for (let i = 0; i < 40 && !(await addresses.allTextContents()).includes('u03000@demo.test'); i++) {
      await list.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      await page.waitForTimeout(300);
    }
    expect(await addresses.allTextContents()).toContain('u03000@demo.test');
    expect(await page.getByRole('listitem').count()).toBeLessThan(60);

    await page.getByTestId('mailbox-search').locator('input').fill('u02999');
    await page.getByTestId('mailbox-search').locator('input').press('Enter');
    await page.getByTestId('mailbox-count').filter({ hasText: '1 mailbox' }).waitFor();
    expect(await addresses.allTextContents()).toEqual(['u02999@demo.test']);

    // At phone width the address is shown whole (it used to be cut to "u0…" beside the buttons).
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => addresses.first().evaluate((el) => el.scrollWidth <= el.clientWidth && el.getBoundingClientRect().width > 200)).toBe(true);
    await context.close();
  });

  it('creates a mailbox with a generated password, suspends it, and cannot open another domain of the tenant', async () => {
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'admin@demo.test', DEMO_PASSWORD);
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test`);
    // Rows come from the browser's first fetch: once they show, the page is hydrated and its buttons work.
    await page.getByTestId('mailbox-address').first().waitFor();
    await page.getByRole('button', { name: 'New mailbox' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name (before @)').fill('newbie');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const shown = await page.getByTestId('generated-password').textContent();
    const password = shown!.split(': ').pop()!.trim();
    const login = await stack.api('POST', '/api/auth/login', { username: 'newbie@demo.test', password });
    expect(login.status).toBe(200);

    await page.getByTestId('mailbox-search').locator('input').fill('newbie');
    await page.getByTestId('mailbox-search').locator('input').press('Enter');
    await page.getByTestId('mailbox-count').filter({ hasText: '1 mailbox' }).waitFor();
    await page.getByRole('button', { name: 'Suspend newbie@demo.test' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('button', { name: 'Resume newbie@demo.test' }).waitFor();
    expect((await stack.api('GET', '/api/mailboxes?q=newbie')).body.items[0].status).toBe('suspended');

    expect((await page.goto(`${stack.portalUrl}/admin/domains/second.test`))?.status()).toBe(404);
    await page.goto(`${stack.portalUrl}/ops`);
    expect(new URL(page.url()).pathname).toBe('/admin');
    await context.close();
  });

  it("checks the domain's DNS through the configured resolver and shows exactly which records are wrong or missing, with the value to set", async () => {
    const { context, page } = await newPage();
    await passwordSignIn(page, stack.portalUrl, 'admin@demo.test', DEMO_PASSWORD);
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test`);
    await page.getByRole('link', { name: 'DNS records' }).click();
    // The page answers after the server has asked the resolver for every record: give it room on a loaded machine.
    await page.getByRole('heading', { level: 1, name: 'DNS records of demo.test' }).waitFor({ timeout: 90_000 });
    const rows = page.locator('tr[data-record]');
    const verdicts = Object.fromEntries(await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-record'), tr.getAttribute('data-status')])));
    expect(verdicts).toEqual(DEMO_ZONE_VERDICTS);
    // Each row's tag says the same as its status, in words.
    for (const [record, status] of Object.entries(DEMO_ZONE_VERDICTS)) {
      expect(await page.locator(`tr[data-record="${record}"]`).getByTestId('dns-status').textContent(), record).toBe({ found: 'Found', wrong: 'Wrong', missing: 'Missing' }[status]);
    }
    expect(await page.getByTestId('dns-summary').textContent()).toBe('2 records are wrong, 3 missing, 5 of 10 found.');
    // A wrong record shows what is published and what to set instead.
    const spf = page.locator('tr[data-record="TXT demo.test"]');
    expect(await spf.getByTestId('dns-found').textContent()).toBe('v=spf1 a -all');
    expect(await spf.getByTestId('dns-value').textContent()).toBe('v=spf1 mx -all');
    expect(await spf.textContent()).toContain('Another value is published');
    const dkim = page.locator('tr[data-record="TXT dizi._domainkey.demo.test"]');
    const key = (await stack.api('GET', '/api/domains/demo.test/dns')).body.records.find((r: { kind: string }) => r.kind === 'dkim').value;
    expect(await dkim.getByTestId('dns-value').textContent()).toBe(key);
    expect(await page.locator('tr[data-record="SRV _pop3s._tcp.demo.test"]').getByTestId('dns-value').textContent()).toBe('0 1 995 mail.demo.test.');
    await expectAccessible(page);

    // Only the problems; then checking again after the owner fixed nothing gives the same answer.
    await page.getByText('Only problems').click();
    expect(await rows.count()).toBe(5);
    const before = await page.getByTestId('dns-checked-at').textContent();
    await page.waitForTimeout(1100);
    await page.getByTestId('dns-recheck').click();
    await expect.poll(() => page.getByTestId('dns-checked-at').textContent()).not.toBe(before);
    expect(await rows.count()).toBe(5);

    // In Chinese.
    await context.addCookies([{ name: 'dizi_locale', value: 'zh-CN', url: stack.portalUrl }]);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'demo.test 的 DNS 记录' }).waitFor();
    expect(await page.getByTestId('dns-summary').textContent()).toBe('2 条记录错误，3 条缺失，共 10 条中已找到 5 条。');
    expect(await page.locator('tr[data-record="TXT demo.test"]').getByTestId('dns-status').textContent()).toBe('错误');
    await expectAccessible(page);

    // Another domain of the tenant, and another tenant's, are not this admin's to check.
    expect((await page.goto(`${stack.portalUrl}/admin/domains/second.test/dns`))?.status()).toBe(404);
    expect((await page.goto(`${stack.portalUrl}/admin/domains/beacon.test/dns`))?.status()).toBe(404);
    expect(await page.evaluate(() => fetch('/bff/api/domains/beacon.test/dns/check').then((r) => r.status))).toBe(404);
    await context.close();
  });
});
