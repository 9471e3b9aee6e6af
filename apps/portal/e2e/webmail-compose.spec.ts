/**
 * Writing mail in the webmail, in Chromium against the real API and PostgreSQL: signatures kept on the identities
 * (JMAP Identity/set) are put into a new message and swapped with the sender; screenshots of compose at desktop and
 * phone width in both languages (.dizi/screens/compose-*.png).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { seriousViolations } from './axe';
import { jmapAs, MailUser, signInMailbox } from './mail-fixture';
import { DEMO_PASSWORD, passwordSignIn, ROOT, Stack, startStack } from './stack';

vi.setConfig({ testTimeout: 240_000 });
let stack: Stack;
let alice: MailUser;
const SCREENS = join(ROOT, '.dizi/screens');

const OWN = [
  { name: 'Work', textSignature: '-- \nAlice Smith, Sales', htmlSignature: '', isDefault: true },
  { name: '中文', textSignature: '-- \n爱丽丝 · 销售部', htmlSignature: '', isDefault: false },
];
const SALES = [{ name: 'Team', textSignature: '-- \nThe sales team 销售团队', htmlSignature: '', isDefault: true }];

async function pick(page: Page, field: string, option: string): Promise<void> {
  await page.locator(`.wm-field:has(#${field}) .ant-select`).click();
  // An identity's label is "Name <address>" when it has a name: `<address>` picks it by its ending.
  const title = option.startsWith('<') ? `[title$="${option}"]` : `[title="${option}"]`;
  await page.locator(`.ant-select-dropdown:visible .ant-select-item-option${title}`).click();
  await page.locator('.ant-select-dropdown:visible').waitFor({ state: 'hidden' });
}

beforeAll(async () => {
  stack = await startStack();
  alice = await signInMailbox(stack, 'alice@demo.test', DEMO_PASSWORD);
  expect((await stack.api('POST', '/api/aliases', { address: 'sales@demo.test', destinations: ['alice@demo.test'] })).status).toBe(201);
  const ids = await jmapAs(stack, alice, [['Identity/get', { accountId: alice.accountId, ids: null }, 'i']]);
  const byEmail = Object.fromEntries(ids.i.list.map((i: { email: string; id: string }) => [i.email, i.id]));
  const set = await jmapAs(stack, alice, [['Identity/set', {
    accountId: alice.accountId,
    update: { [byEmail['alice@demo.test']]: { signatures: OWN }, [byEmail['sales@demo.test']]: { name: 'Sales 销售', signatures: SALES } },
  }, 's']]);
  expect(set.s.notUpdated ?? {}).toEqual({});
  expect(Object.keys(set.s.updated)).toHaveLength(2);
}, 900_000);

afterAll(async () => {
  await stack?.close();
});

describe('compose', () => {
  it('puts the default signature in, swaps it with the sender and the chosen signature, keeping what was typed', async () => {
    const context = await stack.browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await passwordSignIn(page, stack.portalUrl, 'alice', DEMO_PASSWORD);
    await page.getByRole('heading', { level: 1, name: /^Inbox/ }).waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Write', exact: true }).click();
    const text = page.locator('#wm-text');
    await text.waitFor();
    expect(await text.inputValue()).toBe('\n\n-- \nAlice Smith, Sales');
    await text.press('Control+Home');
    await text.pressSequentially('Hello Bob,');

    await pick(page, 'wm-signature', '中文');
    expect(await text.inputValue()).toBe('Hello Bob,\n\n-- \n爱丽丝 · 销售部');
    await pick(page, 'wm-from', 'Sales 销售 <sales@demo.test>');
    expect(await text.inputValue()).toBe('Hello Bob,\n\n-- \nThe sales team 销售团队');
    // One signature only: no choice offered.
    expect(await page.locator('#wm-signature').count()).toBe(0);
    await pick(page, 'wm-from', '<alice@demo.test>');
    expect(await text.inputValue()).toBe('Hello Bob,\n\n-- \nAlice Smith, Sales');
    await pick(page, 'wm-signature', 'No signature');
    expect(await text.inputValue()).toBe('Hello Bob,');
    expect(await seriousViolations(page)).toEqual([]);
    await context.close();
  });

  it('looks right at desktop and phone width in both languages (screenshots)', async () => {
    mkdirSync(SCREENS, { recursive: true });
    for (const locale of ['zh-CN', 'en']) {
      for (const [device, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
        const context = await stack.browser.newContext({ locale, viewport, deviceScaleFactor: 1 });
        await context.addCookies([{ name: 'dizi_locale', value: locale, url: stack.portalUrl }]);
        const page = await context.newPage();
        await passwordSignIn(page, stack.portalUrl, 'alice', DEMO_PASSWORD);
        // Folders and identities arrive together.
        await page.getByRole('heading', { level: 1, name: /^(Inbox|收件箱)/ }).waitFor({ timeout: 60_000 });
        await page.locator('.wm-top-right .ant-btn-primary').click();
        await page.locator('#wm-text').waitFor();
        expect(await page.locator('#wm-text').inputValue()).toContain('Alice Smith, Sales');
        await page.waitForTimeout(500);
        await page.screenshot({ path: join(SCREENS, `compose-${locale}-${device}.png`) });
        await context.close();
      }
    }
  });
});
