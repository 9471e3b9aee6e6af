/**
 * The webmail's settings, full-page view, per-sender images and fielded search in Chromium, against the real API,
 * PostgreSQL, Redis and a mail node (SMTP submission, delivery, IMAP): an auto-reply with dates answers a sender once,
 * forwarding with a copy kept delivers both, a password change signs the other sessions out and works over IMAP,
 * images shown for a trusted sender only, search by field with the words marked, another tenant reaching nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import { createTransport } from 'nodemailer';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousViolations } from './axe';
import { importMail, jmapAs, MailUser, plainMessage, signInMailbox } from './mail-fixture';
import { MailNode, startMailNode } from './mail-node';
import { DEMO_PASSWORD, freePort, passwordSignIn, Stack, startStack } from './stack';

vi.setConfig({ testTimeout: 240_000 });
let stack: Stack;
let mailNode: MailNode;
let submissionPort: number;
let blobDir: string;
let reader: MailUser;
let beacon: Server;
let beaconUrl: string;
const beaconHits: string[] = [];
const settingsKey = randomBytes(32).toString('base64');
const ids: Record<string, string> = {};

async function newPage(locale = 'en-US', viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({ locale, viewport, timezoneId: 'Asia/Shanghai' });
  return { context, page: await context.newPage() };
}

async function signIn(page: Page, address: string, password = DEMO_PASSWORD): Promise<void> {
  await passwordSignIn(page, stack.portalUrl, address, password);
  await page.getByRole('heading', { level: 1, name: /^(Inbox|收件箱)/ }).waitFor({ timeout: 60_000 });
}

async function addMailbox(address: string): Promise<void> {
  expect((await stack.api('POST', '/api/mailboxes', { address, password: DEMO_PASSWORD, role: 'user' })).status).toBe(201);
}

/** Sends as `from` over SMTP submission (STARTTLS, AUTH PLAIN), as a mail program does. */
async function submit(from: string, to: string, subject: string, text: string, password = DEMO_PASSWORD): Promise<void> {
  const transport = createTransport({ host: '127.0.0.1', port: submissionPort, secure: false, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: from, pass: password } });
  try {
    await transport.sendMail({ from, to, subject, text });
  } finally {
    transport.close();
  }
}

/** Subjects in a folder over IMAP, polled until `until` says enough (or ~60 s). */
async function imapSubjects(user: string, until: (subjects: string[]) => boolean, password = DEMO_PASSWORD, folder = 'INBOX'): Promise<string[]> {
  let subjects: string[] = [];
  // A new session each time: what a session sees of new mail depends on when the server tells it.
  for (let i = 0; i < 60; i++) {
    const imap = new ImapFlow({ host: '127.0.0.1', port: mailNode.imapPort, secure: false, auth: { user, pass: password }, tls: { rejectUnauthorized: false }, logger: false });
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock(folder);
      try {
        subjects = [];
        if ((imap.mailbox && typeof imap.mailbox === 'object' ? imap.mailbox.exists : 0) > 0) {
          for await (const m of imap.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
        }
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout().catch(() => undefined);
    }
    if (until(subjects)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return subjects;
}

function htmlMessage(from: string, to: string, subject: string, html: string): string {
  return [`From: ${from}`, `To: ${to}`, `Subject: ${subject}`, `Date: ${new Date().toUTCString()}`, `Message-ID: <${randomBytes(6).toString('hex')}@shop.example>`, 'MIME-Version: 1.0', 'Content-Type: text/html; charset=utf-8', '', html, ''].join('\r\n');
}

function withAttachment(from: string, to: string, subject: string, text: string, file: string): string {
  return [
    `From: ${from}`, `To: ${to}`, `Subject: =?UTF-8?B?${Buffer.from(subject).toString('base64')}?=`, `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${randomBytes(6).toString('hex')}@partner.test>`, 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b1"', '',
    '--b1', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', text, '',
    '--b1', `Content-Type: application/pdf; name="${file}"`, `Content-Disposition: attachment; filename="${file}"`, 'Content-Transfer-Encoding: base64', '',
    Buffer.from('%PDF-1.4 fake').toString('base64'), '--b1--', '',
  ].join('\r\n');
}

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'dizi-webmail-settings-blobs-'));
  beacon = createServer((req, res) => {
    beaconHits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/gif' }).end(Buffer.from('R0lGODlhAQABAAAAACw=', 'base64'));
  });
  await new Promise<void>((r) => beacon.listen(0, '127.0.0.1', r));
  beaconUrl = `http://127.0.0.1:${(beacon.address() as AddressInfo).port}`;
  stack = await startStack({}, { BLOB_DIR: blobDir, SETTINGS_ENCRYPTION_KEY: settingsKey });
  submissionPort = await freePort();
  mailNode = await startMailNode(stack, { MTA_ROLES: 'smtp,delivery,imap', BLOB_DIR: blobDir, SETTINGS_ENCRYPTION_KEY: settingsKey, SUBMISSION_PORT: String(submissionPort) });
  for (const a of ['vera@demo.test', 'fred@demo.test', 'pat@demo.test', 'rita@demo.test']) await addMailbox(a);
  reader = await signInMailbox(stack, 'rita@demo.test', DEMO_PASSWORD);
  const other = (await stack.api('POST', '/api/tenants', { name: 'Other', plan: 'standard' })).body;
  await stack.api('POST', '/api/domains', { name: 'other.test', tenantId: other.id });
  await addMailbox('eve@other.test');

  // rita's mail: a long inbox (for "back keeps the position"), images from a shop, attachments to search for.
  for (let i = 0; i < 90; i++) await importMail(stack, reader, plainMessage({ from: 'List <list@partner.test>', to: 'rita@demo.test', subject: `Filler ${String(i).padStart(2, '0')}`, text: 'nothing', date: new Date(Date.UTC(2026, 10, 1, 0, i)).toUTCString() }), 'inbox', { $seen: true });
  ids.shop1 = (await importMail(stack, reader, htmlMessage('Shop <news@shop.example>', 'rita@demo.test', 'Winter sale', `<p>Sale!</p><img src="${beaconUrl}/one.gif" alt="banner">`))).id;
  ids.shop2 = (await importMail(stack, reader, htmlMessage('Shop <news@shop.example>', 'rita@demo.test', 'Spring sale', `<p>Again</p><img src="${beaconUrl}/two.gif" alt="banner">`))).id;
  ids.plan = (await importMail(stack, reader, withAttachment('Carol <carol@partner.test>', 'rita@demo.test', '季度财务计划 Finance plan', '请审阅第三季度的财务计划。', 'budget-plan.pdf'))).id;
  ids.other = (await importMail(stack, reader, withAttachment('Dave <dave@partner.test>', 'rita@demo.test', '财务 minutes', '会议纪要', 'minutes.pdf'))).id;
  ids.noAttachment = (await importMail(stack, reader, plainMessage({ from: 'Carol <carol@partner.test>', to: 'rita@demo.test', subject: '财务 without files', text: '没有附件' }))).id;
}, 900_000);

afterAll(async () => {
  await mailNode?.stop();
  await stack?.close();
  await new Promise((r) => beacon?.close(r));
  if (blobDir) await rm(blobDir, { recursive: true, force: true });
});

describe('webmail settings', () => {
  it('sets an auto-reply with dates in the browser; a sender writing twice over SMTP gets one reply (seen over IMAP)', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'vera@demo.test');
    await page.getByTestId('settings-link').click();
    await page.waitForURL(/\/mail\/settings\/general$/);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('navigation').getByRole('link', { name: 'Auto-reply' }).click();
    await page.locator('#ws-vac-text').waitFor();
    await expect.poll(() => page.locator('#ws-vac-on').isEnabled()).toBe(true);
    // Turning it on without text is refused in words, and nothing is saved.
    await page.locator('#ws-vac-on').click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Write the reply text before turning the auto-reply on.').waitFor();
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
    const end = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() + 7 * 86_400_000));
    await page.locator('#ws-vac-from').fill(today);
    await page.locator('#ws-vac-to').fill(end);
    await page.locator('#ws-vac-subject').fill('外出 Out of office');
    await page.locator('#ws-vac-text').fill('我正在休假，1 月 4 日回来。Back on 4 January.');
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Save' }).click();
    const answer = page.locator('.ant-alert').filter({ hasText: /saved|Not saved/ });
    await answer.waitFor();
    expect(await answer.textContent()).toBe('The auto-reply is saved.');
    // Stored as JMAP says: the first day from midnight in the user's zone (Shanghai, UTC+8), up to the day after the last.
    const vera = await signInMailbox(stack, 'vera@demo.test', DEMO_PASSWORD);
    const got = await fetch(`${stack.apiUrl}/jmap/api`, {
      method: 'POST',
      headers: { authorization: `Bearer ${vera.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:vacationresponse'], methodCalls: [['VacationResponse/get', { accountId: vera.accountId, ids: null }, 'v']] }),
    });
    const v = ((await got.json()) as { methodResponses: [string, { list: Record<string, string>[] }, string][] }).methodResponses[0][1].list[0];
    expect(v).toMatchObject({ isEnabled: true, subject: '外出 Out of office', textBody: '我正在休假，1 月 4 日回来。Back on 4 January.' });
    expect(new Date(v.fromDate).getTime()).toBe(Date.parse(`${today}T00:00:00+08:00`));
    expect(new Date(v.toDate).getTime()).toBe(Date.parse(`${end}T00:00:00+08:00`) + 86_400_000);
    // Reloaded, the page shows what was saved.
    await page.reload();
    await page.locator('#ws-vac-text').waitFor();
    await page.waitForFunction(() => (document.querySelector('#ws-vac-to') as HTMLInputElement | null)?.value !== '');
    expect(await page.locator('#ws-vac-from').inputValue()).toBe(today);
    expect(await page.locator('#ws-vac-to').inputValue()).toBe(end);

    await submit('fred@demo.test', 'vera@demo.test', 'Are you there? 1', 'first');
    await submit('fred@demo.test', 'vera@demo.test', 'Are you there? 2', 'second');
    const veraInbox = await imapSubjects('vera@demo.test', (s) => s.filter((x) => x.startsWith('Are you there')).length === 2);
    expect(veraInbox.filter((x) => x.startsWith('Are you there'))).toHaveLength(2);
    const replies = await imapSubjects('fred@demo.test', (s) => s.some((x) => x.includes('外出')));
    expect(replies.filter((x) => x.includes('外出'))).toEqual(['外出 Out of office']);
    // Both messages were delivered before this; a second reply would be in the spool by now. Wait a while and count again.
    await new Promise((r) => setTimeout(r, 5000));
    expect((await imapSubjects('fred@demo.test', () => true)).filter((x) => x.includes('外出'))).toHaveLength(1);
    await context.close();
  });

  it('forwards with a copy kept: both mailboxes get the message; bad addresses are refused in words', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'fred@demo.test');
    await page.goto(`${stack.portalUrl}/mail/settings/forwarding`);
    await page.locator('#ws-fwd-to').waitFor();
    await expect.poll(() => page.getByRole('button', { name: 'Save' }).isEnabled()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator('#ws-fwd-to').fill('not an address');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Not saved: /).waitFor();
    await page.locator('#ws-fwd-to').fill('pat@demo.test');
    expect(await page.getByRole('checkbox', { name: 'Keep a copy in this mailbox' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Forwarding is saved.').waitFor();
    const saved = await stack.api('GET', '/api/mailboxes/fred@demo.test/delivery');
    expect(saved.body).toMatchObject({ forwardTo: ['pat@demo.test'], keepCopy: true });

    await submit('vera@demo.test', 'fred@demo.test', 'Forward me 转发', 'both should have it');
    expect(await imapSubjects('pat@demo.test', (s) => s.includes('Forward me 转发'))).toContain('Forward me 转发');
    expect(await imapSubjects('fred@demo.test', (s) => s.includes('Forward me 转发'))).toContain('Forward me 转发');
    await context.close();
  });

  it('changes the password: this browser stays signed in, another is signed out, IMAP takes only the new one', async () => {
    const { context, page } = await newPage();
    const other = await newPage();
    await signIn(page, 'pat@demo.test');
    await signIn(other.page, 'pat@demo.test');
    await page.goto(`${stack.portalUrl}/mail/settings/password`);
    await page.locator('#ws-pw-current').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator('#ws-pw-current').fill('wrong-password');
    await page.locator('#ws-pw-new').fill('New-pass-7788');
    await page.locator('#ws-pw-again').fill('New-pass-7788');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('The current password is wrong.').waitFor({ timeout: 30_000 });
    await page.locator('#ws-pw-current').fill(DEMO_PASSWORD);
    await page.locator('#ws-pw-again').fill('New-pass-77');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('The two new passwords are not the same.').waitFor();
    await page.locator('#ws-pw-again').fill('New-pass-7788');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Your password has been changed.').waitFor({ timeout: 30_000 });
    // This browser: still in.
    await page.goto(`${stack.portalUrl}/mail`);
    await page.getByRole('heading', { level: 1, name: /^Inbox/ }).waitFor();
    // The other: out at its next request.
    await other.page.goto(`${stack.portalUrl}/mail`);
    await other.page.waitForURL(/\/sign-in/, { timeout: 30_000 });
    await other.context.close();
    // IMAP: the old password refused, the new one works.
    const old = new ImapFlow({ host: '127.0.0.1', port: mailNode.imapPort, secure: false, auth: { user: 'pat@demo.test', pass: DEMO_PASSWORD }, tls: { rejectUnauthorized: false }, logger: false });
    await expect(old.connect()).rejects.toThrow();
    expect(await imapSubjects('pat@demo.test', (s) => s.includes('Forward me 转发'), 'New-pass-7788')).toContain('Forward me 转发');
    await context.close();
  });

  it('keeps density and time zone per user (in the API, not the browser), and manages folders', async () => {
    const { context, page } = await newPage('zh-CN');
    await signIn(page, 'vera@demo.test');
    await page.goto(`${stack.portalUrl}/mail/settings/general`);
    await page.getByRole('heading', { name: '常规' }).waitFor();
    await page.getByText('紧凑').click();
    await page.getByText('已保存。').waitFor();
    await page.locator('#ws-tz').click();
    await page.keyboard.type('Europe/Berlin');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.body.textContent?.includes('Europe/Berlin'));
    expect(await seriousViolations(page)).toEqual([]);
    const token = (await signInMailbox(stack, 'vera@demo.test', DEMO_PASSWORD)).token;
    await expect.poll(async () => (await stack.api('GET', '/api/me/preferences', undefined, token)).body).toEqual({ density: 'compact', timeZone: 'Europe/Berlin', imageSenders: [] });
    // A fresh browser (nothing stored locally) draws the list compact.
    const fresh = await newPage('zh-CN');
    await signIn(fresh.page, 'vera@demo.test');
    await fresh.page.locator('.wm.wm-compact').waitFor();
    await fresh.context.close();

    // Folders: create, nest, rename, unsubscribe, delete.
    await page.goto(`${stack.portalUrl}/mail/settings/folders`);
    await page.locator('#ws-new-folder').fill('项目');
    await page.getByRole('button', { name: '新建文件夹' }).click();
    await page.getByTestId('folder-项目').waitFor();
    await page.locator('#ws-new-folder').fill('Old name');
    await page.getByRole('button', { name: '新建文件夹' }).click();
    await page.getByTestId('folder-Old name').getByRole('button', { name: '重命名或移动 Old name' }).click();
    await page.getByTestId('folder-Old name').getByRole('textbox').fill('2026');
    await page.getByTestId('folder-Old name').locator('.ant-select').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: '项目' }).click();
    await page.getByTestId('folder-Old name').getByRole('button', { name: '保存' }).click();
    await page.getByTestId('folder-2026').waitFor();
    await page.getByTestId('folder-2026').getByRole('checkbox').click();
    await page.getByText('已保存。').waitFor();
    await expect.poll(() => page.getByTestId('folder-2026').getByRole('checkbox').isChecked()).toBe(false);
    expect(await seriousViolations(page)).toEqual([]);
    const v = await signInMailbox(stack, 'vera@demo.test', DEMO_PASSWORD);
    const boxes = (await jmapAs(stack, v, [['Mailbox/get', { accountId: v.accountId, ids: null }, 'm']])).m.list as { id: string; name: string; parentId: string | null; isSubscribed: boolean }[];
    const project = boxes.find((b) => b.name === '项目')!;
    expect(boxes.find((b) => b.name === '2026')).toMatchObject({ parentId: project.id, isSubscribed: false });
    await page.getByTestId('folder-2026').getByRole('button', { name: '删除 2026' }).click();
    await page.locator('.ant-popconfirm').getByRole('button', { name: '删除' }).click();
    await page.getByText('文件夹已删除。').waitFor();
    await expect.poll(() => page.getByTestId('folder-2026').count()).toBe(0);
    await context.close();
  });
});

describe('reading', () => {
  it('opens a message on a page of its own (deep link), and back finds the list where it was', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'rita@demo.test');
    const scroller = page.locator('.wm-list-scroll');
    await page.locator('[data-email-id]').first().waitFor();
    await scroller.evaluate((el) => el.scrollTo({ top: 3400 }));
    await page.getByTestId('message-list').getByRole('listitem').filter({ hasText: 'Filler 40' }).locator('.wm-row-main').click();
    await page.locator('#wm-subject').filter({ hasText: 'Filler 40' }).waitFor();
    const before = await scroller.evaluate((el) => el.scrollTop);
    expect(before).toBeGreaterThan(1000);
    await page.getByTestId('full-page-link').click();
    await page.waitForURL(/\/mail\/message\/[^/]+$/);
    // Still laid out (so its scroll position lives on), but out of sight.
    expect(await page.locator('.wm-list').evaluate((el) => getComputedStyle(el).visibility)).toBe('hidden');
    expect(await seriousViolations(page)).toEqual([]);
    const deepLink = page.url();
    await page.goBack();
    await page.waitForURL(/\/mail$/);
    expect(await page.locator('.wm-list').evaluate((el) => getComputedStyle(el).visibility)).toBe('visible');
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(before);
    // The deep link on its own, in a new tab: the message, and "back" leads to the list.
    const tab = await context.newPage();
    await tab.goto(deepLink);
    await tab.locator('#wm-subject').filter({ hasText: 'Filler 40' }).waitFor({ timeout: 60_000 });
    await tab.getByRole('button', { name: '← Back' }).click();
    await tab.waitForURL(/\/mail$/);
    await tab.getByTestId('message-list').waitFor();
    // Another tenant's user gets nothing at the same address.
    const eve = await newPage();
    await signIn(eve.page, 'eve@other.test');
    await eve.page.goto(deepLink);
    await eve.page.getByText(/no longer here|cannot be reached/).waitFor({ timeout: 60_000 });
    expect(await eve.page.locator('#wm-subject').count()).toBe(0);
    await eve.context.close();
    await context.close();
  });

  it('shows remote images from a sender the user trusts, and stops when that is revoked in the settings', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'rita@demo.test');
    await page.getByTestId('message-list').getByRole('listitem').filter({ hasText: 'Winter sale' }).locator('.wm-row-main').click();
    await page.getByText(/remote image was blocked/).waitFor();
    expect(beaconHits).toEqual([]);
    await page.getByRole('button', { name: 'Always load images from news@shop.example' }).click();
    await expect.poll(() => beaconHits.includes('/one.gif'), { timeout: 30_000 }).toBe(true);
    // Another message from the same sender: shown at once.
    await page.getByTestId('message-list').getByRole('listitem').filter({ hasText: 'Spring sale' }).locator('.wm-row-main').click();
    await expect.poll(() => beaconHits.includes('/two.gif'), { timeout: 30_000 }).toBe(true);
    expect(await page.getByText(/remote image was blocked/).count()).toBe(0);
    // Revoked in the settings: blocked again.
    await page.goto(`${stack.portalUrl}/mail/settings/images`);
    await page.getByText('news@shop.example').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Remove news@shop.example' }).click();
    await page.getByText('No senders yet.', { exact: false }).waitFor();
    beaconHits.length = 0;
    await page.goto(`${stack.portalUrl}/mail/message/${ids.shop2}`);
    await page.getByText(/remote image was blocked/).waitFor({ timeout: 60_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(beaconHits).toEqual([]);
    await context.close();
  });

  it('finds by field (attachment name, sender, dates, folder or all) and marks the words found, Chinese included', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'rita@demo.test');
    const rows = page.getByTestId('message-list').getByRole('listitem');
    await page.getByTestId('advanced-search-open').click();
    await page.getByTestId('advanced-search').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.locator('#wm-adv-attachmentName').fill('PLAN');
    await page.locator('#wm-adv-subject').fill('财务');
    await page.getByTestId('advanced-search').getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { level: 1, name: /^Results for/ }).waitFor();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('季度财务计划');
    expect(await rows.first().locator('mark').allTextContents()).toEqual(['财务']);

    // Subject and sender, attachments only: two messages have 财务 in the subject with files, one without.
    await page.getByTestId('advanced-search-open').click();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('#wm-adv-subject').fill('财务');
    await page.getByText('Has attachments').click();
    await page.getByTestId('advanced-search').getByRole('button', { name: 'Search' }).click();
    await expect.poll(async () => (await rows.allTextContents()).filter((t) => t.includes('财务')).length).toBe(2);
    expect((await rows.allTextContents()).some((t) => t.includes('without files'))).toBe(false);

    // Body words, in every folder, with a date range that excludes everything, then one that includes today.
    await page.getByTestId('advanced-search-open').click();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.locator('#wm-adv-body').fill('财务计划');
    await page.locator('#wm-adv-before').fill('2020-01-01');
    await page.getByTestId('advanced-search').getByRole('button', { name: 'Search' }).click();
    await page.getByText('No messages here.').waitFor();
    await page.getByTestId('advanced-search-open').click();
    await page.locator('#wm-adv-before').fill('');
    await page.locator('#wm-adv-after').fill(new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(Date.now() - 86_400_000)));
    await page.locator('#wm-adv-folder').click();
    await page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: 'All folders' }).click();
    await page.getByTestId('advanced-search').getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().locator('.wm-row-preview mark').allTextContents()).toEqual(['财务计划']);
    await context.close();
  });

  it('keeps another tenant out of preferences and delivery settings', async () => {
    const eve = await signInMailbox(stack, 'eve@other.test', DEMO_PASSWORD);
    expect((await stack.api('GET', '/api/mailboxes/rita@demo.test/delivery', undefined, eve.token)).status).toBeGreaterThanOrEqual(403);
    expect((await stack.api('PUT', '/api/mailboxes/rita@demo.test/delivery', { forwardTo: ['eve@other.test'] }, eve.token)).status).toBeGreaterThanOrEqual(403);
    expect((await stack.api('GET', '/api/me/preferences', undefined, eve.token)).body.imageSenders).toEqual([]);
    // Through the portal: eve's session reaches only eve's own.
    const { context, page } = await newPage();
    await signIn(page, 'eve@other.test');
    const r = await page.request.put(`${stack.portalUrl}/bff/api/mailboxes/rita@demo.test/delivery`, { data: { forwardTo: ['eve@other.test'] }, headers: { origin: stack.portalUrl } });
    expect(r.status()).toBeGreaterThanOrEqual(403);
    expect((await stack.api('GET', '/api/mailboxes/rita@demo.test/delivery')).body.forwardTo).toEqual([]);
    await context.close();
  });
});
