/**
 * More console pages in Chromium against the real API and PostgreSQL. A domain admin's: aliases and the catch-all,
 * groups with members and posting policy, "send as" grants, and bulk actions on selected mailboxes; in English
 * and Simplified Chinese, checked with axe-core, and at phone width without sideways scrolling. An operator's: the mail
 * node settings and the system mail templates.
 */
import { readFile } from 'node:fs/promises';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousViolations } from './axe';
import { DEMO_PASSWORD, passwordSignIn, Stack, startStack } from './stack';

const GB = 1024 ** 3;
vi.setConfig({ testTimeout: 180_000 });
let stack: Stack;

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

async function signedIn(as: 'admin' | 'operator' | 'tenant',  locale: 'en-US' | 'zh-CN', viewport: { width: number; height: number }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({ locale, viewport });
  if (locale === 'zh-CN') await context.addCookies([{ name: 'dizi_locale', value: 'zh-CN', url: stack.portalUrl }]);
  const page = await context.newPage();
  if (as === 'admin') await passwordSignIn(page, stack.portalUrl, 'admin@demo.test', DEMO_PASSWORD);
  else if (as === 'tenant') await passwordSignIn(page, stack.portalUrl, 'tina@demo.test', DEMO_PASSWORD);
  else await passwordSignIn(page, stack.portalUrl, 'operator', DEMO_PASSWORD, 'operator');
  return { context, page };
}

const adminPage = (locale: 'en-US' | 'zh-CN' = 'en-US', viewport = DESKTOP) => signedIn('admin', locale, viewport);
const operatorPage = (locale: 'en-US' | 'zh-CN' = 'en-US', viewport = DESKTOP) => signedIn('operator', locale, viewport);

async function expectAccessible(page: Page) {
  await page.waitForLoadState('networkidle');
  expect(await seriousViolations(page)).toEqual([]);
}

/** The page is as wide as the screen: nothing to scroll sideways. */
async function expectNoSidewaysScroll(page: Page) {
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
}

beforeAll(async () => {
  stack = await startStack();
  await stack.api('POST', '/api/tenants', { name: 'Beacon', plan: 'standard' }).then(async (t) => {
    await stack.api('POST', '/api/domains', { name: 'beacon.test', tenantId: t.body.id });
    await stack.api('POST', '/api/mailboxes', { address: 'boss@beacon.test', password: DEMO_PASSWORD, role: 'tenant_admin' });
    await stack.api('POST', '/api/groups', { address: 'staff@beacon.test', members: ['boss@beacon.test'] });
  });
  expect((await stack.api('POST', '/api/mailboxes', { address: 'tina@demo.test', password: DEMO_PASSWORD, role: 'tenant_admin' })).status).toBe(201);
}, 900_000);

afterAll(async () => {
  await stack?.close();
});

describe('aliases', () => {
  it('creates an alias and the catch-all, refuses a bad destination with the reason, and deletes with confirmation and undo', async () => {
    const { context, page } = await adminPage();
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test`);
    await page.getByTestId('mailbox-address').first().waitFor();
    await page.getByRole('navigation', { name: 'Domain sections' }).getByRole('link', { name: 'Aliases' }).click();
    await page.getByRole('heading', { level: 1, name: 'Aliases of demo.test' }).waitFor();
    await page.getByText('No aliases yet.').waitFor();
    await expectAccessible(page);

    // A destination that is no address: the API's sentence is shown and nothing is created.
    await page.getByRole('button', { name: 'New alias' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Name (before @)').fill('sales');
    await dialog.getByLabel('Delivers to').fill('alice@demo.test\nbroken-address');
    await dialog.getByRole('button', { name: 'Create' }).click();
    expect(await page.getByTestId('alias-error').textContent()).toBe('"broken-address" is not a valid mail address: it has no @');
    expect((await stack.api('GET', '/api/aliases?domain=demo.test')).body.total).toBe(0);

    await dialog.getByLabel('Delivers to').fill('alice@demo.test, bob@demo.test');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('cell', { name: /^sales@demo\.test/ }).waitFor();
    expect((await stack.api('GET', '/api/aliases/sales@demo.test')).body).toMatchObject({ destinations: ['alice@demo.test', 'bob@demo.test'], enabled: true, catchAll: false });

    // The catch-all: no name to type; once it exists the box cannot be ticked again.
    await page.getByRole('button', { name: 'New alias' }).click();
    await dialog.getByLabel('Catch-all for the whole domain').check();
    expect(await dialog.getByLabel('Name (before @)').isVisible()).toBe(false);
    await dialog.getByLabel('Delivers to').fill('alice@demo.test');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('cell', { name: /^Any address @demo\.test/ }).waitFor();
    expect((await stack.api('GET', '/api/aliases/*@demo.test')).body).toMatchObject({ catchAll: true, destinations: ['alice@demo.test'] });
    await page.getByRole('button', { name: 'New alias' }).click();
    expect(await dialog.getByLabel('Catch-all for the whole domain').isDisabled()).toBe(true);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Turn off, then delete after confirming; Undo puts it back as it was.
    await page.getByRole('button', { name: 'Turn off sales@demo.test' }).click();
    await page.getByRole('button', { name: 'Turn on sales@demo.test' }).waitFor();
    expect((await stack.api('GET', '/api/aliases/sales@demo.test')).body.enabled).toBe(false);
    await page.getByRole('button', { name: 'Delete sales@demo.test' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('Alias sales@demo.test deleted.').waitFor();
    expect((await stack.api('GET', '/api/aliases/sales@demo.test')).status).toBe(404);
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByRole('button', { name: 'Turn on sales@demo.test' }).waitFor();
    expect((await stack.api('GET', '/api/aliases/sales@demo.test')).body).toMatchObject({ destinations: ['alice@demo.test', 'bob@demo.test'], enabled: false });
    await expectAccessible(page);

    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await context.close();
  });
});

describe('groups', () => {
  it('creates a group with members in Chinese, sets its posting policy to listed senders, adds and removes members, and deletes it', async () => {
    const { context, page } = await adminPage('zh-CN');
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test/groups`);
    await page.getByRole('heading', { level: 1, name: 'demo.test 的邮件组' }).waitFor();
    await page.getByText('还没有邮件组。').waitFor();
    await expectAccessible(page);

    await page.getByRole('button', { name: '新建邮件组' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('地址（@ 之前）').fill('team');
    await dialog.getByLabel('名称').fill('项目组');
    await dialog.getByLabel('成员').fill('alice@demo.test\nbob@demo.test');
    await Promise.all([page.waitForURL(/\/admin\/domains\/demo\.test\/groups\/team%40demo\.test$/), dialog.getByRole('button', { name: /^创\s?建$/ }).click()]);
    await page.getByRole('heading', { level: 1, name: '邮件组 team@demo.test' }).waitFor();
    await page.getByRole('heading', { level: 2, name: '2 个成员' }).waitFor();
    expect((await stack.api('GET', '/api/groups/team@demo.test')).body).toMatchObject({ name: '项目组', postingPolicy: 'members', memberCount: 2 });

    // Listed senders: the list appears only under that policy, and is saved with it.
    expect(await page.getByLabel('允许的发件人').isVisible()).toBe(false);
    await page.getByLabel('发信权限').click();
    await page.locator('.ant-select-item-option[title="仅列出的发件人"]').click();
    await page.getByText('只有下方列出的发件人。').waitFor();
    await page.getByLabel('允许的发件人').fill('boss@partner.test\n*@partner2.test');
    await page.getByLabel('同时在邮件组邮箱中保留一份').check();
    await page.getByRole('button', { name: /^保\s?存$/ }).click();
    await page.getByText('已保存').waitFor();
    expect((await stack.api('GET', '/api/groups/team@demo.test')).body).toMatchObject({ postingPolicy: 'listed', allowedSenders: ['boss@partner.test', '*@partner2.test'], keepCopy: true });

    // A member that is no address is refused with the API's reason; good ones are added.
    await page.getByLabel('添加成员').fill('carol@demo.test\n@@bad');
    await page.getByTestId('add-members').click();
    await page.getByTestId('group-member-error').waitFor();
    expect((await stack.api('GET', '/api/groups/team@demo.test')).body.memberCount).toBe(2);
    await page.getByLabel('添加成员').fill('carol@demo.test');
    await page.getByTestId('add-members').click();
    await page.getByRole('heading', { level: 2, name: '3 个成员' }).waitFor();
    await page.getByRole('button', { name: '移除 bob@demo.test' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: /^移\s?除$/ }).click();
    await page.getByRole('heading', { level: 2, name: '2 个成员' }).waitFor();
    await page.getByRole('tooltip').waitFor({ state: 'hidden' });
    const members = (await stack.api('GET', '/api/groups/team@demo.test/members')).body.items;
    expect(members.sort()).toEqual(['alice@demo.test', 'carol@demo.test']);
    await expectAccessible(page);

    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.getByRole('button', { name: '删除邮件组' }).click();
    await Promise.all([page.waitForURL(/\/groups$/), page.getByRole('tooltip').getByRole('button', { name: /^删\s?除$/ }).click()]);
    expect((await stack.api('GET', '/api/groups/team@demo.test')).status).toBe(404);
    await context.close();
  });

  it("is not found for another tenant's group or under another domain's URL", async () => {
    const { context, page } = await adminPage();
    expect((await page.goto(`${stack.portalUrl}/admin/domains/beacon.test/groups`))?.status()).toBe(404);
    expect((await page.goto(`${stack.portalUrl}/admin/domains/beacon.test/aliases`))?.status()).toBe(404);
    expect((await page.goto(`${stack.portalUrl}/admin/domains/demo.test/groups/staff%40beacon.test`))?.status()).toBe(404);
    const replay = await page.evaluate(async () => ({
      list: await fetch('/bff/api/groups?domain=beacon.test').then((r) => r.status),
      add: await fetch('/bff/api/groups/staff@beacon.test/members', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ members: ['evil@demo.test'] }) }).then((r) => r.status),
      alias: await fetch('/bff/api/aliases', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ address: 'evil@beacon.test', destinations: ['admin@demo.test'] }) }).then((r) => r.status),
    }));
    expect(replay).toEqual({ list: 404, add: 404, alias: 404 });
    expect((await stack.api('GET', '/api/groups/staff@beacon.test')).body.memberCount).toBe(1);
    await context.close();
  });
});

describe('mailboxes', () => {
  it('grants and revokes "send as" for a mailbox, showing why a grant is refused', async () => {
    const { context, page } = await adminPage();
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test`);
    // Rows come from the browser's first fetch: once they show, the page is hydrated and the search box works.
    await page.getByTestId('mailbox-address').first().waitFor();
    await page.getByTestId('mailbox-search').locator('input').fill('alice');
    await page.getByTestId('mailbox-search').locator('input').press('Enter');
    await page.getByTestId('mailbox-count').filter({ hasText: '1 mailbox' }).waitFor();
    await page.getByRole('button', { name: 'Send as alice@demo.test' }).click();
    const drawer = page.getByRole('dialog', { name: 'alice@demo.test may send as' });
    await drawer.getByText('No other addresses yet.').waitFor();

    await drawer.getByLabel('Address to allow').fill('someone@elsewhere.example');
    await drawer.getByRole('button', { name: 'Allow' }).click();
    expect(await page.getByTestId('send-as-error').textContent()).toContain('elsewhere.example is not a domain hosted here');

    await drawer.getByLabel('Address to allow').fill('info@demo.test');
    await drawer.getByRole('button', { name: 'Allow' }).click();
    await drawer.getByText('info@demo.test', { exact: true }).waitFor();
    expect((await stack.api('GET', '/api/mailboxes/alice@demo.test/send-as')).body.identities.map((i: { address: string }) => i.address)).toEqual(['info@demo.test']);
    await expectAccessible(page);

    await drawer.getByRole('button', { name: 'Revoke info@demo.test' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: 'Revoke' }).click();
    await drawer.getByText('No other addresses yet.').waitFor();
    expect((await stack.api('GET', '/api/mailboxes/alice@demo.test/send-as')).body.identities).toEqual([]);
    await context.close();
  });

  it('suspends, resumes, sets the quota of and deletes several selected mailboxes, with progress and confirmation', async () => {
    for (let n = 1; n <= 6; n++) await stack.api('POST', '/api/mailboxes', { address: `bulk${n}@demo.test`, password: DEMO_PASSWORD });
    const status = async () => (await stack.api('GET', '/api/mailboxes?q=bulk&limit=50')).body.items.map((m: { localPart: string; status: string; quotaBytes: number }) => `${m.localPart} ${m.status} ${m.quotaBytes === 2 * GB ? '2 GB' : 'as before'}`);
    const { context, page } = await adminPage('en-US', PHONE);
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test`);
    // Rows come from the browser's first fetch: once they show, the page is hydrated and the search box works.
    await page.getByTestId('mailbox-address').first().waitFor();
    await page.getByTestId('mailbox-search').locator('input').fill('bulk');
    await page.getByTestId('mailbox-search').locator('input').press('Enter');
    await page.getByTestId('mailbox-count').filter({ hasText: '6 mailboxes' }).waitFor();
    await expectNoSidewaysScroll(page);

    // Select all six, leave bulk6 out, suspend the rest after confirming.
    await page.getByTestId('select-all').click();
    await page.getByRole('checkbox', { name: 'Select bulk6@demo.test' }).uncheck();
    const bar = page.getByTestId('bulk-bar');
    await bar.getByText('5 selected').waitFor();
    await expectAccessible(page);
    await bar.getByRole('button', { name: 'Suspend' }).click();
    expect(await page.getByRole('tooltip').textContent()).toContain('Suspend 5 mailboxes?');
    await page.getByRole('tooltip').getByRole('button', { name: 'Suspend' }).click();
    await page.getByText('5 mailboxes changed.').waitFor();
    expect(await status()).toEqual(['bulk1 suspended as before', 'bulk2 suspended as before', 'bulk3 suspended as before', 'bulk4 suspended as before', 'bulk5 suspended as before', 'bulk6 active as before']);

    await bar.getByRole('button', { name: 'Set quota' }).click();
    const dialog = page.getByRole('dialog', { name: 'Quota of 5 mailboxes' });
    await dialog.getByLabel('Quota (GB)').fill('2');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect.poll(status).toEqual(['bulk1 suspended 2 GB', 'bulk2 suspended 2 GB', 'bulk3 suspended 2 GB', 'bulk4 suspended 2 GB', 'bulk5 suspended 2 GB', 'bulk6 active as before']);

    await page.getByRole('checkbox', { name: 'Select bulk1@demo.test' }).uncheck();
    await bar.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(status).toEqual(['bulk1 suspended 2 GB', 'bulk2 active 2 GB', 'bulk3 active 2 GB', 'bulk4 active 2 GB', 'bulk5 active 2 GB', 'bulk6 active as before']);

    await bar.getByRole('button', { name: 'Delete' }).click();
    expect(await page.getByRole('tooltip').textContent()).toContain('Delete 4 mailboxes?');
    await page.getByRole('tooltip').getByRole('button', { name: 'Delete' }).click();
    await page.getByText('4 mailboxes deleted.').waitFor();
    expect(await status()).toEqual(['bulk1 suspended 2 GB', 'bulk6 active as before']);
    expect(await page.getByTestId('mailbox-address').allTextContents()).toEqual(['bulk1@demo.test', 'bulk6@demo.test']);
    await context.close();
  });
});

describe('domain settings', () => {
  it("lets a domain admin change the seed's domain settings, shows a refused HELO name on its field, and offers limits only to tenant admins", async () => {
    const { context, page } = await adminPage();
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test/aliases`);
    await page.getByRole('navigation', { name: 'Domain sections' }).getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { level: 1, name: 'Settings of demo.test' }).waitFor();
    // A domain admin may not change limits or status: the form does not offer them.
    expect(await page.getByRole('heading', { level: 2 }).allTextContents()).toEqual(['Mail service', 'Mailboxes']);
    await expectAccessible(page);

    await page.getByLabel('HELO name').fill('not a host!');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('domain-settings-error').waitFor();
    expect(await page.locator('#domain-settings_heloName_help').textContent()).toBe('must be a host name like mail.example.com');
    expect((await stack.api('GET', '/api/domains/demo.test')).body.heloName).toBeNull();

    await page.getByLabel('HELO name').fill('mx.demo.test');
    await page.getByLabel('POP3').uncheck();
    await page.getByLabel('Local only').check();
    await page.getByLabel('Quota of new mailboxes (GB)').fill('2');
    await page.getByLabel('Messages one mailbox may send per day').fill('500');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Saved', { exact: true }).waitFor();
    expect((await stack.api('GET', '/api/domains/demo.test')).body).toMatchObject({
      heloName: 'mx.demo.test', pop3Enabled: false, imapEnabled: true, localOnly: true, mailboxDefaultQuotaBytes: 2 * GB, mailboxDailySendLimit: 500,
    });
    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await context.close();

    // A tenant admin also sets the domain's limits, but not the installation's default domain.
    const tenant = await signedIn('tenant', 'zh-CN', DESKTOP);
    await tenant.page.goto(`${stack.portalUrl}/admin/domains/demo.test/settings`);
    await tenant.page.getByRole('heading', { level: 1, name: 'demo.test 的设置' }).waitFor();
    expect(await tenant.page.getByRole('heading', { level: 2 }).allTextContents()).toEqual(['邮件服务', '邮箱', '限制']);
    expect(await tenant.page.getByLabel('系统默认域名').count()).toBe(0);
    await tenant.page.getByLabel('邮箱上限').fill('5000');
    await tenant.page.getByRole('button', { name: /^保\s?存$/ }).click();
    await tenant.page.getByText('已保存', { exact: true }).waitFor();
    expect((await stack.api('GET', '/api/domains/demo.test')).body).toMatchObject({ maxMailboxes: 5000, pop3Enabled: false });
    await expectAccessible(tenant.page);
    await tenant.context.close();
  });
});

describe('address book', () => {
  it("creates the domain's public address book, adds, edits, finds, exports and deletes contacts", async () => {
    const { context, page } = await adminPage();
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test/address-book`);
    await page.getByRole('heading', { level: 1, name: 'Address book of demo.test' }).waitFor();
    await page.getByRole('button', { name: "Create the domain's address book" }).click();
    await page.getByText('No contacts yet.').waitFor();
    const books = (await stack.api('GET', '/api/address-books?domain=demo.test')).body.items;
    expect(books).toMatchObject([{ scope: 'domain', name: 'demo.test address book', contactCount: 0 }]);

    await page.getByRole('button', { name: 'Add contact' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#contact_displayName').fill('王芳, Sales');
    await dialog.getByLabel('Email address').fill('wang.fang@partner.test');
    await dialog.getByLabel('Organization').fill('Partner "East"');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('contact').filter({ hasText: '王芳, Sales' }).waitFor();
    await page.getByRole('button', { name: 'Add contact' }).click();
    await dialog.locator('#contact_displayName').fill('Li Lei');
    await dialog.getByLabel('Email address').fill('li.lei@partner.test');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('contact').filter({ hasText: 'Li Lei' }).waitFor();
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Edit li.lei@partner.test' }).click();
    await dialog.getByLabel('Phone').fill('+86 10 1234 5678');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.getByTestId('contact').filter({ hasText: '+86 10 1234 5678' }).waitFor();

    const search = page.getByRole('searchbox', { name: 'Search by name or address' });
    await search.fill('wang');
    await search.press('Enter');
    await expect.poll(() => page.getByTestId('contact').count()).toBe(1);
    await search.fill('');
    await search.press('Enter');
    await expect.poll(() => page.getByTestId('contact').count()).toBe(2);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = (await readFile((await download.path())!, 'utf8')).replace(/^\ufeff/, '').trim().split('\r\n');
    expect(csv[0]).toBe('displayName,email,phone,organization,title,notes');
    expect(csv.slice(1).sort()).toEqual(['"王芳, Sales",wang.fang@partner.test,,"Partner ""East""",,', 'Li Lei,li.lei@partner.test,+86 10 1234 5678,,,'].sort());

    await page.getByRole('button', { name: 'Delete li.lei@partner.test' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByTestId('contact').count()).toBe(1);
    expect((await stack.api('GET', `/api/address-books/${books[0].id}/contacts`)).body.items.map((c: { email: string }) => c.email)).toEqual(['wang.fang@partner.test']);
    // Undo adds the contact back with every field it had; then delete it for good.
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.getByTestId('contact').filter({ hasText: '+86 10 1234 5678' }).waitFor();
    expect((await stack.api('GET', `/api/address-books/${books[0].id}/contacts`)).body.items.find((c: { email: string }) => c.email === 'li.lei@partner.test')).toMatchObject({
      displayName: 'Li Lei',
      phone: '+86 10 1234 5678',
    });
    await page.getByRole('button', { name: 'Delete li.lei@partner.test' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => page.getByTestId('contact').count()).toBe(1);
    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await context.close();
  });

  it('imports a vCard file and a CSV file in Chinese with a per-row report, and exports vCard that reads back', async () => {
    const { context, page } = await adminPage('zh-CN');
    await page.goto(`${stack.portalUrl}/admin/domains/demo.test/address-book`);
    await page.getByTestId('contact').first().waitFor();
    const [book] = (await stack.api('GET', '/api/address-books?domain=demo.test')).body.items;

    await page.getByRole('button', { name: '导入联系人' }).click();
    const dialog = page.getByRole('dialog', { name: '导入联系人' });
    const vcf = ['BEGIN:VCARD', 'VERSION:4.0', 'FN:赵敏', 'EMAIL:zhao.min@partner.test', 'TITLE:采购', 'END:VCARD', 'BEGIN:VCARD', 'VERSION:3.0', 'FN:No mail', 'END:VCARD'].join('\r\n');
    await dialog.getByTestId('contact-import-file').setInputFiles({ name: 'partners.vcf', mimeType: 'text/vcard', buffer: Buffer.from(vcf) });
    await dialog.getByTestId('contact-import-file-name').filter({ hasText: 'partners.vcf（vCard）' }).waitFor();
    await dialog.getByTestId('contact-import-start').click();
    await dialog.getByTestId('contact-import-summary').filter({ hasText: '新建 1 个，更新 0 个，跳过 0 个，失败 1 个。' }).waitFor();
    const failedRow = dialog.locator('tr[data-line="7"]');
    await expect.poll(() => failedRow.textContent()).toContain('失败');
    expect(await failedRow.textContent()).toContain('no email address');
    await expectAccessible(page);
    const [report] = await Promise.all([page.waitForEvent('download'), dialog.getByTestId('contact-import-download').click()]);
    const reportLines = (await readFile((await report.path())!, 'utf8')).replace(/^\ufeff/, '').trim().split('\r\n');
    expect(reportLines[0]).toBe('line,email,name,outcome,reason');
    expect(reportLines.slice(1)).toEqual(['1,zhao.min@partner.test,赵敏,created,', '7,,No mail,failed,no email address: every contact needs one']);
    await dialog.getByTestId('contact-import-close').click();
    await page.getByTestId('contact').filter({ hasText: '赵敏' }).waitFor();

    // CSV with a Chinese header, updating the contact already there.
    await page.getByRole('button', { name: '导入联系人' }).click();
    const csv = '姓名,电子邮件,电话\n王芳,wang.fang@partner.test,+86 21 5555\n新人,new.one@partner.test,\n';
    await dialog.getByTestId('contact-import-file').setInputFiles({ name: '联系人.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await dialog.getByRole('radio', { name: '用文件中填写的字段更新' }).check();
    await dialog.getByTestId('contact-import-start').click();
    await dialog.getByTestId('contact-import-summary').filter({ hasText: '新建 1 个，更新 1 个，跳过 0 个，失败 0 个。' }).waitFor();
    await dialog.getByTestId('contact-import-close').click();
    await page.getByTestId('contact').filter({ hasText: '+86 21 5555' }).waitFor();
    const contacts = (await stack.api('GET', `/api/address-books/${book.id}/contacts`)).body.items;
    expect(contacts.map((c: { email: string; phone: string }) => [c.email, c.phone]).sort()).toEqual([
      ['new.one@partner.test', ''],
      ['wang.fang@partner.test', '+86 21 5555'],
      ['zhao.min@partner.test', ''],
    ]);

    await page.getByRole('button', { name: '导出 vCard' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('menuitem', { name: 'vCard 3.0（较旧的客户端）' }).click()]);
    expect(download.suggestedFilename()).toBe('demo.test-address-book-v3.vcf');
    const exported = await readFile((await download.path())!, 'utf8');
    expect(exported.match(/BEGIN:VCARD\r\nVERSION:3\.0\r\n/g)).toHaveLength(3);
    expect(exported).toContain('FN:赵敏\r\n');
    expect(exported).toContain('EMAIL;TYPE=INTERNET:wang.fang@partner.test\r\n');
    await context.close();
  });
});

describe('operator settings', () => {
  it('shows every mail node setting with its default and description, changes one live, shows a refused value on its field, and resets it', async () => {
    const { context, page } = await operatorPage();
    await page.goto(`${stack.portalUrl}/ops`);
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { level: 1, name: 'Mail node settings' }).waitFor();
    // Every field of the API's schema is on the page (the relay's as relay.*).
    const schema = (await stack.api('GET', '/api/settings/smtp')).body;
    const keys = await page.locator('[data-setting]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-setting')));
    for (const key of Object.keys(schema.defaults).filter((k) => k !== 'relay')) expect(keys).toContain(key);
    for (const key of ['relay.mode', 'relay.host', 'relay.port', 'relay.password']) expect(keys).toContain(key);
    const row = page.locator('[data-setting="maxRecipients"]');
    expect(await row.textContent()).toContain('recipients per message');
    expect(await row.textContent()).toContain('Default: 16');
    await expectAccessible(page);

    await page.getByLabel('maxRecipients', { exact: true }).fill('50');
    await page.getByText('1 change').waitFor();
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Saved. The mail nodes apply the change within seconds.').waitFor();
    let now = (await stack.api('GET', '/api/settings/smtp')).body;
    expect(now.values.maxRecipients).toBe(50);
    expect(now.overridden).toContain('maxRecipients');
    await row.getByText('changed', { exact: true }).waitFor();

    // A blocklist entry that is no address: the API's reason under that setting, nothing stored.
    await page.getByLabel('ipBlockList', { exact: true }).fill('192.0.2.0/24\nnot-an-ip');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByTestId('settings-error').waitFor();
    expect(await page.locator('[data-setting="ipBlockList"]').getByRole('alert').textContent()).toBe('must be an IP address or a CIDR range like 10.0.0.0/8');
    now = (await stack.api('GET', '/api/settings/smtp')).body;
    expect(now.values.ipBlockList).toEqual([]);
    await page.getByLabel('ipBlockList', { exact: true }).fill('192.0.2.0/24');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(async () => (await stack.api('GET', '/api/settings/smtp')).body.values.ipBlockList).toEqual(['192.0.2.0/24']);

    await page.getByRole('button', { name: 'Reset to default maxRecipients' }).click();
    await expect.poll(async () => (await stack.api('GET', '/api/settings/smtp')).body.values.maxRecipients).toBe(16);
    expect((await stack.api('GET', '/api/settings/smtp')).body.overridden).not.toContain('maxRecipients');

    // Sizes read as sizes: the default and range in MB/GB, the value typed shown beside its bytes.
    const size = page.locator('[data-setting="maxMessageBytes"]');
    expect(await size.textContent()).toContain('Default: 100 MB');
    expect(await size.textContent()).toContain('1 KB to 2 GB');
    expect(await size.getByTestId('setting-bytes').textContent()).toBe('= 100 MB');
    await page.getByLabel('maxMessageBytes', { exact: true }).fill('52428800');
    await expect.poll(() => size.getByTestId('setting-bytes').textContent()).toBe('= 50 MB');
    await page.getByLabel('maxMessageBytes', { exact: true }).press('Tab');
    expect(await page.getByLabel('maxMessageBytes', { exact: true }).inputValue()).toBe('52,428,800');
    await page.getByRole('button', { name: 'Discard' }).click();
    await expect.poll(() => size.getByTestId('setting-bytes').textContent()).toBe('= 100 MB');

    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await context.close();
  });

  it('describes every setting in Chinese in the zh-CN view, and finds settings by their Chinese description', async () => {
    const { context, page } = await operatorPage('zh-CN');
    await page.goto(`${stack.portalUrl}/ops/settings`);
    await page.getByRole('heading', { level: 1, name: '邮件节点设置' }).waitFor();
    const rows = await page.locator('[data-setting]').evaluateAll((els) =>
      els.map((el) => [el.getAttribute('data-setting'), el.querySelector('[data-testid="setting-description"]')?.textContent ?? ''] as const),
    );
    expect(rows.length).toBeGreaterThan(80);
    // relay.password explains itself with the password-set line; every other setting has a Chinese description.
    const untranslated = rows.filter(([key, text]) => key !== 'relay.password' && !/[\u4e00-\u9fff]/.test(text)).map(([key]) => key);
    expect(untranslated).toEqual([]);
    const row = page.locator('[data-setting="maxRecipients"]');
    expect(await row.getByTestId('setting-description').textContent()).toBe('每封邮件的收件人数上限。');
    expect(await row.textContent()).not.toContain('recipients per message');
    await page.getByRole('searchbox', { name: '查找设置' }).fill('灰名单');
    // (The relay password's row is always shown.)
    await expect.poll(() => page.locator('[data-setting]:not([data-setting="relay.password"])').evaluateAll((els) => els.map((el) => el.getAttribute('data-setting')))).toEqual(
      ['autoWhitelistEnabled', 'greylistEnabled', 'greylistDelaySeconds', 'greylistRetryWindowHours', 'greylistPassDays', 'greylistAutoPassAfter'],
    );
    expect(await page.locator('[data-setting="maxRecipients"]').count()).toBe(0);
    await expectAccessible(page);
    await context.close();
  });

  it('edits the system mail templates in Chinese, previews both languages filled with a sample mailbox, refuses an unknown placeholder, and saves', async () => {
    const { context, page } = await operatorPage('zh-CN');
    await page.goto(`${stack.portalUrl}/ops/settings/templates`);
    await page.getByRole('heading', { level: 1, name: '系统邮件模板' }).waitFor();
    await expectAccessible(page);

    await page.getByLabel('主题 (English)').fill('Hi {{displayName}}, welcome to {{domain}}');
    await page.getByLabel('正文 (简体中文)').fill('{{displayName}}，您好：{{foo}}');
    await page.getByRole('button', { name: '预览两种语言' }).click();
    await page.getByTestId('template-error').waitFor();
    expect(await page.getByTestId('template-zh-CN').textContent()).toContain('unknown placeholder {{foo}}');
    expect((await stack.api('GET', '/api/settings/templates')).body.values.welcome.en.subject).toBe('Welcome to your new mailbox {{address}}');

    await page.getByLabel('正文 (简体中文)').fill('{{displayName}}，您好：您的邮箱 {{address}} 已开通，空间 {{quota}}。');
    await page.getByRole('button', { name: '预览两种语言' }).click();
    await page.getByTestId('preview-en').waitFor();
    expect(await page.getByTestId('preview-en').textContent()).toContain('Hi Sam Lee, welcome to example.com');
    expect(await page.getByTestId('preview-zh-CN').textContent()).toContain('张伟，您好：您的邮箱 zhang.wei@example.com 已开通，空间 1 GB。');
    await expectAccessible(page);

    await page.getByRole('button', { name: '保存模板' }).click();
    await page.getByText('模板已保存。').waitFor();
    const saved = (await stack.api('GET', '/api/settings/templates')).body.values.welcome;
    expect(saved.en.subject).toBe('Hi {{displayName}}, welcome to {{domain}}');
    expect(saved['zh-CN'].body).toBe('{{displayName}}，您好：您的邮箱 {{address}} 已开通，空间 {{quota}}。');

    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await context.close();
  });
});

describe('operator codes and keys', () => {
  it('issues a registration code shown once, sees it redeemed by a tenant, and revokes it after confirming', async () => {
    const { context, page } = await operatorPage();
    await page.goto(`${stack.portalUrl}/ops/settings`);
    await page.getByRole('navigation', { name: 'Settings pages' }).getByRole('link', { name: 'Registration codes' }).click();
    await page.getByRole('heading', { level: 1, name: 'Registration codes' }).waitFor();
    await page.getByText('No registration codes yet.').waitFor();
    await expectAccessible(page);

    await page.getByRole('button', { name: 'Issue code' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.locator('#issue-code_domain').fill('not a domain');
    await dialog.getByLabel('Most domains').fill('2');
    await dialog.getByLabel('Most mailboxes').fill('20');
    await dialog.getByRole('button', { name: 'Issue code' }).click();
    await page.getByTestId('code-error').waitFor();
    expect((await stack.api('GET', '/api/registration-codes')).body.total).toBe(0);
    await dialog.locator('#issue-code_domain').fill('newco.test');
    await dialog.getByRole('button', { name: 'Issue code' }).click();
    const code = (await page.getByTestId('issued-code').textContent())!.trim();
    expect(code).toMatch(/^DIZI1-/);
    await page.getByTestId('code-newco.test').getByText('Issued', { exact: true }).waitFor();
    expect((await stack.api('GET', '/api/registration-codes')).body.items[0]).toMatchObject({ domain: 'newco.test', maxDomains: 2, maxMailboxes: 20, status: 'issued' });

    // A customer's tenant redeems it; the page shows by whom.
    const tenant = (await stack.api('POST', '/api/tenants', { name: 'Newco', plan: 'standard' })).body;
    expect((await stack.api('POST', '/api/registration-codes/redeem', { code, tenantId: tenant.id })).status).toBe(200);
    await page.reload();
    const row = page.getByTestId('code-newco.test');
    await row.getByText('Redeemed', { exact: true }).waitFor();
    expect(await row.getByRole('link', { name: 'this tenant' }).getAttribute('href')).toBe(`/ops/tenants/${tenant.id}`);

    await page.getByRole('button', { name: 'Revoke newco.test' }).click();
    expect(await page.getByRole('tooltip').textContent()).toContain('The tenant holding it is no longer limited by it.');
    await page.getByRole('tooltip').getByRole('button', { name: 'Revoke' }).click();
    await row.getByText('Revoked', { exact: true }).waitFor();
    expect((await stack.api('GET', '/api/registration-codes')).body.items[0].status).toBe('revoked');
    await expectAccessible(page);
    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await context.close();
  });

  it('creates a tenant API key in Chinese that then works for that tenant only, and revokes it so it stops at once', async () => {
    const demo = (await stack.api('GET', '/api/tenants?q=Demo')).body.items[0];
    const { context, page } = await operatorPage('zh-CN');
    await page.goto(`${stack.portalUrl}/ops/settings/api-keys`);
    await page.getByRole('heading', { level: 1, name: 'API 密钥' }).waitFor();
    await expectAccessible(page);

    await page.getByRole('button', { name: '新建 API 密钥' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('名称').fill('备份脚本');
    await dialog.getByLabel('租户').click();
    await page.locator(`.ant-select-item-option[title="${demo.name}"]`).click();
    await dialog.getByRole('button', { name: /^创\s?建$/ }).click();
    const key = (await page.getByTestId('created-key').textContent())!.trim();
    expect(key).toMatch(/^dzk_/);
    await page.getByTestId('key-备份脚本').getByText('有效').waitFor();

    const withKey = (path: string) => fetch(`${stack.apiUrl}${path}`, { headers: { 'x-api-key': key } });
    const domains = await withKey('/api/domains').then((r) => r.json());
    expect(domains.items.map((d: { name: string }) => d.name)).toContain('demo.test');
    expect(domains.items.map((d: { name: string }) => d.name)).not.toContain('beacon.test');
    expect((await withKey('/api/domains/beacon.test')).status).toBe(404);

    await page.getByRole('button', { name: '撤销 备份脚本' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: '撤销' }).click();
    await page.getByTestId('key-备份脚本').getByText('已撤销').waitFor();
    expect((await withKey('/api/domains')).status).toBe(401);
    await page.setViewportSize(PHONE);
    await expectNoSidewaysScroll(page);
    await context.close();
  });
});
