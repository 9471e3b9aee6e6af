/**
 * The webmail in Chromium as its users use it, against the real API, PostgreSQL, Redis and a mail node (delivery and
 * IMAP): sign-in, reading, replying with an attachment (checked in Sent and, over IMAP with imapflow, in the
 * recipient's INBOX), search in Chinese, moving, the language; hostile HTML mail; two tenants kept apart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousViolations } from './axe';
import { hostileCorpus, hostileMessage } from './hostile-corpus';
import { createFolder, importMail, jmapAs, MailUser, plainMessage, signInMailbox } from './mail-fixture';
import { MailNode, startMailNode } from './mail-node';
import { DEMO_PASSWORD, passwordSignIn, Stack, startStack } from './stack';

vi.setConfig({ testTimeout: 240_000 });
let stack: Stack;
let mailNode: MailNode;
let blobDir: string;
let alice: MailUser;
let bob: MailUser;
let eve: MailUser;
let beacon: Server;
let beaconUrl: string;
const beaconHits: string[] = [];
const settingsKey = randomBytes(32).toString('base64');

async function newPage(locale = 'en-US', viewport = { width: 1280, height: 900 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await stack.browser.newContext({ locale, viewport });
  return { context, page: await context.newPage() };
}

async function signInAlice(page: Page): Promise<void> {
  await passwordSignIn(page, stack.portalUrl, 'alice', DEMO_PASSWORD);
  await page.getByRole('heading', { level: 1, name: /^Inbox/ }).waitFor({ timeout: 60_000 });
}

function row(page: Page, subject: string | RegExp) {
  return page.getByTestId('message-list').getByRole('listitem').filter({ hasText: subject });
}

async function openMessage(page: Page, subject: string | RegExp): Promise<void> {
  await row(page, subject).first().locator('.wm-row-main').click();
  await page.locator('#wm-subject').filter({ hasText: subject }).waitFor({ timeout: 60_000 });
}

async function pickFolder(page: Page, name: string): Promise<void> {
  await page.locator('.wm-side').getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${name}`) }).waitFor();
}

beforeAll(async () => {
  blobDir = await mkdtemp(join(tmpdir(), 'dizi-webmail-blobs-'));
  beacon = createServer((req, res) => {
    beaconHits.push(req.url ?? '');
    res.writeHead(204).end();
  });
  await new Promise<void>((r) => beacon.listen(0, '127.0.0.1', r));
  beaconUrl = `http://127.0.0.1:${(beacon.address() as AddressInfo).port}`;
  // The API and the mail node share the blob store (sent mail is spooled by one, delivered by the other) and the settings key.
  stack = await startStack({}, { BLOB_DIR: blobDir, SETTINGS_ENCRYPTION_KEY: settingsKey });
  mailNode = await startMailNode(stack, { MTA_ROLES: 'smtp,delivery,imap', BLOB_DIR: blobDir, SETTINGS_ENCRYPTION_KEY: settingsKey });
  alice = await signInMailbox(stack, 'alice@demo.test', DEMO_PASSWORD);
  bob = await signInMailbox(stack, 'bob@demo.test', DEMO_PASSWORD);
  // Another tenant's user, whose mail alice must never reach.
  const other = (await stack.api('POST', '/api/tenants', { name: 'Other', plan: 'standard' })).body;
  await stack.api('POST', '/api/domains', { name: 'other.test', tenantId: other.id });
  expect((await stack.api('POST', '/api/mailboxes', { address: 'eve@other.test', password: DEMO_PASSWORD, role: 'user' })).status).toBe(201);
  eve = await signInMailbox(stack, 'eve@other.test', DEMO_PASSWORD);

  await createFolder(stack, alice, 'Projects');
  await importMail(stack, alice, plainMessage({ from: 'Bob <bob@demo.test>', to: 'alice@demo.test', subject: '季度财务报告 Quarterly report', text: '你好 Alice，\n请查看第三季度的财务报告，详情见 https://example.org/report 。\n\nBob', date: 'Mon, 07 Dec 2026 08:00:00 +0000', id: 'q3.report@demo.test' }));
  await importMail(stack, alice, plainMessage({ from: 'Carol <carol@partner.test>', to: 'alice@demo.test', subject: 'Lunch on Friday', text: 'Shall we meet at noon?', date: 'Mon, 07 Dec 2026 07:00:00 +0000' }), 'inbox', { $seen: true });
  for (const [i, mail] of hostileCorpus(beaconUrl).entries()) await importMail(stack, alice, hostileMessage(mail, 'alice@demo.test', i + 1), 'Projects');
}, 900_000);

afterAll(async () => {
  await mailNode?.stop();
  await stack?.close();
  await new Promise((r) => beacon?.close(r));
  if (blobDir) await rm(blobDir, { recursive: true, force: true });
});

describe('a mailbox user', () => {
  it('signs in with the bare name, lands in the webmail, stays signed in across a reload, and signs out', async () => {
    const { context, page } = await newPage();
    await signInAlice(page);
    expect(new URL(page.url()).pathname).toBe('/mail');
    expect(await page.getByTestId('signed-in-as').textContent()).toBe('alice@demo.test');
    const cookie = (await context.cookies()).find((c) => c.name === 'dizi_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax' });
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + document.cookie)).not.toMatch(/eyJ|dizi_session/);
    // Unread counts in the folder tree, the tab title with the inbox's unread count.
    await expect(page.locator('.wm-side').getByRole('button', { name: /^Inbox/ }).textContent()).resolves.toMatch(/Inbox1$/);
    await page.waitForFunction(() => document.title.startsWith('(1) '));
    await page.reload();
    await page.getByRole('heading', { level: 1, name: /^Inbox/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/mail');
    expect(await seriousViolations(page)).toEqual([]);
    await Promise.all([page.waitForURL(/\/sign-in\?reason=signed_out/), page.getByRole('button', { name: 'Sign out' }).click()]);
    await page.goto(`${stack.portalUrl}/mail`);
    expect(new URL(page.url()).pathname).toBe('/sign-in');
    // The JMAP relay answers nobody without a session, and nothing cross-site.
    expect((await page.request.post(`${stack.portalUrl}/bff/jmap/api`, { data: { using: [], methodCalls: [] } })).status()).toBe(401);
    await context.close();
  });

  it('reads a message, replies with an attachment, finds the reply in Sent and (over IMAP) in the recipient’s INBOX, searches in Chinese, moves a message, changes the language', async () => {
    const { context, page } = await newPage();
    await signInAlice(page);
    expect(await seriousViolations(page)).toEqual([]);
    // Read: the unread message opens, its plain text with its link, and it is marked read.
    await openMessage(page, '季度财务报告');
    expect(await page.getByTestId('reader-from').textContent()).toBe('Bob <bob@demo.test>');
    await page.getByTestId('mail-text').getByRole('link', { name: 'https://example.org/report' }).waitFor();
    await page.waitForFunction(() => !document.title.startsWith('('));
    expect(await seriousViolations(page)).toEqual([]);

    // Reply with an attachment.
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.locator('#wm-to').waitFor();
    expect(await page.locator('#wm-to').inputValue()).toBe('Bob <bob@demo.test>');
    expect(await page.locator('#wm-subject-input').inputValue()).toBe('Re: 季度财务报告 Quarterly report');
    expect(await page.locator('#wm-text').inputValue()).toContain('> 请查看第三季度的财务报告');
    await page.locator('#wm-text').press('Control+Home');
    await page.locator('#wm-text').pressSequentially('收到，谢谢！The figures are attached.');
    await page.getByTestId('attach-input').setInputFiles({ name: 'figures-数据.csv', mimeType: 'text/csv', buffer: Buffer.from('quarter,revenue\nQ3,1234\n') });
    await page.getByTestId('compose-attachment').filter({ hasText: 'figures-数据.csv' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText('Message sent.').waitFor({ timeout: 60_000 });

    // In Sent, with the attachment.
    await pickFolder(page, 'Sent');
    await openMessage(page, 'Re: 季度财务报告');
    await page.locator('.wm-attachments').getByRole('link', { name: 'figures-数据.csv' }).waitFor();
    const sent = await jmapAs(stack, alice, [['Email/query', { accountId: alice.accountId, filter: { inMailbox: alice.folders.sent } }, 'q'], ['Email/get', { accountId: alice.accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['subject', 'keywords', 'inReplyTo', 'attachments'] }, 'g']]);
    expect(sent.g.list).toHaveLength(1);
    expect(sent.g.list[0]).toMatchObject({ subject: 'Re: 季度财务报告 Quarterly report', inReplyTo: ['q3.report@demo.test'] });
    expect(sent.g.list[0].keywords.$draft).toBeUndefined();
    expect(sent.g.list[0].attachments.map((a: { name: string }) => a.name)).toEqual(['figures-数据.csv']);
    const answered = await jmapAs(stack, alice, [['Email/query', { accountId: alice.accountId, filter: { inMailbox: alice.folders.inbox, hasKeyword: '$answered' } }, 'q']]);
    expect(answered.q.ids).toHaveLength(1);

    // In bob's INBOX, read over IMAP by a real client.
    const imap = new ImapFlow({ host: '127.0.0.1', port: mailNode.imapPort, secure: false, auth: { user: 'bob@demo.test', pass: DEMO_PASSWORD }, tls: { rejectUnauthorized: false }, logger: false });
    await imap.connect();
    try {
      let found: { subject?: string; attachments: string[] } | undefined;
      for (let i = 0; i < 120 && !found; i++) {
        const lock = await imap.getMailboxLock('INBOX');
        try {
          for await (const m of imap.fetch('1:*', { envelope: true, bodyStructure: true })) {
            if (!m.envelope?.subject?.startsWith('Re: 季度财务报告')) continue;
            const names: string[] = [];
            const walk = (n: { dispositionParameters?: Record<string, string>; parameters?: Record<string, string>; childNodes?: unknown[] }) => {
              const name = n.dispositionParameters?.filename ?? n.parameters?.name;
              if (name) names.push(name);
              (n.childNodes as (typeof n)[] | undefined)?.forEach(walk);
            };
            if (m.bodyStructure) walk(m.bodyStructure as never);
            found = { subject: m.envelope.subject, attachments: names };
          }
        } catch {
          /* empty mailbox: 1:* matches nothing yet */
        } finally {
          lock.release();
        }
        if (!found) await new Promise((r) => setTimeout(r, 1000));
      }
      expect(found).toEqual({ subject: 'Re: 季度财务报告 Quarterly report', attachments: ['figures-数据.csv'] });
    } finally {
      await imap.logout().catch(() => undefined);
    }
    // The same copy seen over JMAP by bob: one message, in his INBOX.
    const bobs = await jmapAs(stack, bob, [['Email/query', { accountId: bob.accountId, filter: { inMailbox: bob.folders.inbox, subject: 'Re: 季度财务报告' } }, 'q']]);
    expect(bobs.q.ids).toHaveLength(1);

    // Search in Chinese, from the inbox.
    await pickFolder(page, 'Inbox');
    await page.getByRole('searchbox', { name: 'Search mail' }).fill('财务');
    await page.getByRole('searchbox', { name: 'Search mail' }).press('Enter');
    await page.getByRole('heading', { level: 1, name: /Results for “财务”/ }).waitFor();
    await row(page, '季度财务报告').waitFor();
    expect(await page.getByTestId('message-list').getByRole('listitem').count()).toBe(1);

    // Move to a folder from the menu; it leaves the inbox and is in Projects.
    await openMessage(page, '季度财务报告');
    await page.getByRole('toolbar', { name: 'Message actions' }).getByRole('button', { name: 'Move to…' }).click();
    await page.getByRole('menuitem', { name: 'Projects' }).click();
    const inProjects = async () => (await jmapAs(stack, alice, [['Email/query', { accountId: alice.accountId, filter: { inMailbox: alice.folders.Projects, text: '财务' } }, 'q']])).q.ids.length;
    await expect.poll(inProjects, { timeout: 60_000 }).toBe(1);
    await page
      .getByText(/Moved 1 message to Projects/)
      .waitFor()
      .catch(async (e) => {
        throw new Error(`no confirmation; the page says: ${await page.locator('.ant-message').innerText().catch(() => '(no message)')}\n${e}`);
      });
    await page.getByRole('searchbox', { name: 'Search mail' }).fill('');
    await pickFolder(page, 'Projects');
    await row(page, '季度财务报告').waitFor();

    // The language: Chinese, then the folders have Chinese names.
    await page.getByRole('combobox', { name: 'Language' }).click();
    await page.getByTitle('简体中文').click();
    await page.locator('.wm-side').getByRole('button', { name: /^收件箱/ }).waitFor();
    // antd spaces out a two-character Chinese label (写 信).
    await page.getByRole('button', { name: /^写\s?信$/ }).waitFor();
    await page.locator('.ant-select-dropdown').waitFor({ state: 'hidden' });
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('scrolls a long folder by fetching pages by position, with only the visible rows in the page', async () => {
    const bulk = await createFolder(stack, alice, 'Bulk');
    const up = await fetch(`${stack.apiUrl}/jmap/upload/${alice.accountId}`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'message/rfc822' }, body: plainMessage({ from: 'list@partner.test', to: 'alice@demo.test', subject: 'Bulk item', text: 'x' }) });
    const { blobId } = (await up.json()) as { blobId: string };
    for (let batch = 0; batch < 3; batch++) {
      const emails = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`e${i}`, { blobId, mailboxIds: { [bulk]: true }, keywords: { $seen: true }, receivedAt: new Date(Date.UTC(2026, 0, 1) + (batch * 100 + i) * 60_000).toISOString() }]));
      await jmapAs(stack, alice, [['Email/import', { accountId: alice.accountId, emails }, 'i']]);
    }
    const { context, page } = await newPage();
    const queries: number[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/bff/jmap/api') && r.postData()?.includes('"Email/query"')) queries.push(JSON.parse(r.postData()!).methodCalls[0][1].position);
    });
    await signInAlice(page);
    await pickFolder(page, 'Bulk');
    await page.getByText('300 messages').waitFor();
    const rendered = await page.getByTestId('message-list').getByRole('listitem').count();
    expect(rendered).toBeLessThan(60);
    await page.getByTestId('message-list').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="message-list"] [role="listitem"]')].some((el) => el.textContent?.includes('Bulk item') && Number((el as HTMLElement).style.transform.match(/\d+/)?.[0]) > 299 * 60));
    expect(queries).toContain(250);
    expect(queries).not.toContain(100);
    expect(await page.getByTestId('message-list').getByRole('listitem').count()).toBeLessThan(60);
    await context.close();
  });
});

describe('folders', () => {
  it('creates a folder inside another, renames it, and deletes it only once it is empty', async () => {
    const { context, page } = await newPage();
    await signInAlice(page);
    await page.getByRole('button', { name: 'New folder' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Folder name').fill('Clients 客户');
    await dialog.getByLabel('Inside').click();
    await page.getByTitle('Projects', { exact: true }).click();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await page.locator('.wm-side').getByRole('button', { name: /^Clients 客户/ }).waitFor();
    const created = await jmapAs(stack, alice, [['Mailbox/get', { accountId: alice.accountId, ids: null }, 'm']]);
    const folder = created.m.list.find((m: { name: string }) => m.name === 'Clients 客户');
    expect(folder.parentId).toBe(alice.folders.Projects);

    await page.getByRole('button', { name: 'Folder actions: Clients 客户' }).click();
    await page.getByRole('menuitem', { name: 'Rename' }).click();
    await page.getByRole('dialog').getByLabel('Folder name').fill('Customers 客户');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await page.locator('.wm-side').getByRole('button', { name: /^Customers 客户/ }).waitFor();

    // Not empty: refused with the reason; empty: deleted.
    await importMail(stack, alice, plainMessage({ from: 'x@partner.test', to: 'alice@demo.test', subject: 'Filed', text: 'x' }), 'inbox');
    alice.folders['Customers 客户'] = folder.id;
    const filed = await jmapAs(stack, alice, [['Email/query', { accountId: alice.accountId, filter: { inMailbox: alice.folders.inbox, subject: 'Filed' } }, 'q']]);
    await jmapAs(stack, alice, [['Email/set', { accountId: alice.accountId, update: { [filed.q.ids[0]]: { mailboxIds: { [folder.id]: true } } } }, 's']]);
    await page.getByRole('button', { name: 'Folder actions: Customers 客户' }).click();
    await page.getByRole('menuitem', { name: 'Delete folder' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete folder' }).click();
    await page.getByText('The folder still has messages: move or delete them first.').waitFor();
    await page.keyboard.press('Escape');
    await jmapAs(stack, alice, [['Email/set', { accountId: alice.accountId, destroy: [filed.q.ids[0]] }, 'd']]);
    await page.getByRole('button', { name: 'Folder actions: Customers 客户' }).click();
    await page.getByRole('menuitem', { name: 'Delete folder' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete folder' }).click();
    await page.locator('.wm-side').getByRole('button', { name: /^Customers 客户/ }).waitFor({ state: 'detached' });
    await page.locator('.ant-modal-confirm').waitFor({ state: 'detached' });
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});

describe('hostile mail', () => {
  it('opens every message of the corpus: no script runs, nothing is fetched from another host until images are allowed, and the page stays usable', async () => {
    const { context, page } = await newPage();
    const pwned: string[] = [];
    const foreign: string[] = [];
    page.on('dialog', (d) => {
      pwned.push(`dialog: ${d.message()}`);
      void d.dismiss();
    });
    page.on('console', (m) => m.text().includes('pwned') && pwned.push(`console: ${m.text()}`));
    page.on('request', (r) => {
      const url = r.url();
      if (!url.startsWith(stack.portalUrl) && !url.startsWith('data:') && !url.startsWith('about:')) foreign.push(url);
    });
    page.on('popup', (p) => pwned.push(`popup: ${p.url()}`));
    await signInAlice(page);
    await pickFolder(page, 'Projects');
    const corpus = hostileCorpus(beaconUrl);
    for (let n = 1; n <= corpus.length; n++) {
      await openMessage(page, `Hostile ${n}:`);
      const frame = page.frameLocator('[data-testid="mail-frame"]');
      await frame
        .locator('body')
        .waitFor({ state: 'attached' })
        .catch(async (e) => {
          throw new Error(`Hostile ${n}: ${await page.locator('.wm-reader-col').innerText()}\n${e}`);
        });
      // Hovering and clicking inside the message triggers nothing.
      await page.getByTestId('mail-frame').hover();
      await page.getByTestId('mail-frame').click({ position: { x: 20, y: 20 } });
    }
    await page.waitForTimeout(1000);
    expect(pwned).toEqual([]);
    expect(foreign).toEqual([]);
    expect(beaconHits).toEqual([]);
    // Every frame is sandboxed without scripts, forms or same-origin access.
    const sandbox = await page.getByTestId('mail-frame').getAttribute('sandbox');
    expect(sandbox!.split(' ').sort()).toEqual(['allow-popups', 'allow-popups-to-escape-sandbox']);

    // The pixel message: images blocked, then allowed by the reader.
    await openMessage(page, 'Hostile 14:');
    await page.getByText('1 remote image was blocked to protect your privacy.').waitFor();
    expect(beaconHits).toEqual([]);
    await page.getByRole('button', { name: 'Show images' }).click();
    await expect.poll(() => beaconHits.some((h) => h.startsWith('/pixel.gif')), { timeout: 30_000 }).toBe(true);
    expect(pwned).toEqual([]);
    // Still usable: another folder, another message.
    await pickFolder(page, 'Inbox');
    await openMessage(page, 'Lunch on Friday');
    await page.getByTestId('mail-text').getByText('Shall we meet at noon?').waitFor();
    await context.close();
  });
});

describe('two tenants', () => {
  it('neither user reaches the other’s mail by changing ids in the page’s requests or the URL', async () => {
    const secret = await importMail(stack, eve, plainMessage({ from: 'ceo@other.test', to: 'eve@other.test', subject: 'Eve secret 机密', text: 'eve only' }));
    const { context, page } = await newPage();
    await signInAlice(page);
    const call = (calls: unknown[]) =>
      page.evaluate(async (c) => {
        const r = await fetch('/bff/jmap/api', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls: c }) });
        return { status: r.status, body: await r.json() };
      }, calls);
    // Eve's account id: refused. Eve's email id in alice's account: not found, and cannot be changed or destroyed.
    const foreignAccount = await call([['Email/get', { accountId: eve.accountId, ids: [secret.id] }, 'a']]);
    expect(foreignAccount.body.methodResponses[0][0]).toBe('error');
    expect(foreignAccount.body.methodResponses[0][1].type).toBe('accountNotFound');
    const foreignId = await call([
      ['Email/get', { accountId: alice.accountId, ids: [secret.id], properties: ['subject'] }, 'g'],
      ['Email/set', { accountId: alice.accountId, update: { [secret.id]: { 'keywords/$seen': true } } }, 's'],
      ['Email/set', { accountId: alice.accountId, destroy: [secret.id] }, 'd'],
      ['Email/query', { accountId: alice.accountId, filter: { text: 'Eve secret' } }, 'q'],
    ]);
    expect(foreignId.body.methodResponses[0][1]).toMatchObject({ list: [], notFound: [secret.id] });
    expect(Object.keys(foreignId.body.methodResponses[1][1].notUpdated)).toEqual([secret.id]);
    expect(foreignId.body.methodResponses[2][1].notDestroyed[secret.id].type).toBe('notFound');
    expect(foreignId.body.methodResponses[3][1].ids).toEqual([]);
    // The server-rendered body and the downloads: nothing for another account or another's blob.
    for (const url of [
      `/bff/mail/body/${secret.id}?account=${eve.accountId}`,
      `/bff/mail/body/${secret.id}?account=${alice.accountId}`,
      `/bff/jmap/download/${eve.accountId}/${secret.blobId}/x.eml`,
      `/bff/jmap/download/${alice.accountId}/${secret.blobId}/x.eml`,
    ]) {
      const res = await page.request.get(`${stack.portalUrl}${url}`);
      expect(res.status(), url).toBe(404);
      expect(await res.text()).not.toContain('eve only');
    }
    // A POST from another site (no same Origin) is refused by the relay.
    expect((await page.request.post(`${stack.portalUrl}/bff/jmap/api`, { data: { using: [], methodCalls: [] }, headers: { origin: 'http://evil.example' } })).status()).toBe(403);
    // Eve's message is untouched.
    const still = await jmapAs(stack, eve, [['Email/get', { accountId: eve.accountId, ids: [secret.id], properties: ['keywords'] }, 'g']]);
    expect(still.g.list[0].keywords).toEqual({});
    await context.close();
  });
});

describe('phone', () => {
  it('shows one column: the list, then the message with a way back', async () => {
    const { context, page } = await newPage('en-US', { width: 390, height: 844 });
    await signInAlice(page);
    expect(await page.locator('.wm-side').isVisible()).toBe(false);
    await openMessage(page, 'Lunch on Friday');
    expect(await page.locator('.wm-list').isVisible()).toBe(false);
    await page.getByRole('button', { name: '← Back' }).click();
    await row(page, 'Lunch on Friday').waitFor();
    await page.getByRole('button', { name: 'Show folders' }).click();
    await page.getByRole('dialog').getByRole('button', { name: /^Sent/ }).click();
    await page.getByRole('heading', { level: 1, name: /^Sent/ }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });
});

describe('live', () => {
  it('shows new mail without a reload (JMAP push through the relay) and counts it in the tab title', async () => {
    const { context, page } = await newPage();
    const stream = page.waitForResponse((r) => r.url().includes('/bff/jmap/eventsource'), { timeout: 60_000 });
    await signInAlice(page);
    expect((await stream).headers()['content-type']).toContain('text/event-stream');
    await importMail(stack, alice, plainMessage({ from: 'Dan <dan@partner.test>', to: 'alice@demo.test', subject: 'Pushed 推送的邮件', text: 'live' }));
    await row(page, 'Pushed 推送的邮件').waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => /^\(\d+\) /.test(document.title));
    await context.close();
  });
});
