/**
 * Screenshots of the webmail's settings, full-page view and search results at desktop and phone width, in Simplified
 * Chinese and English, for people to look at (not a test).
 * `node -r ./tools/register.cjs apps/portal/e2e/mail-settings-screens.ts [outDir]`; default .dizi/screens.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { importMail, plainMessage, signInMailbox } from './mail-fixture';
import { DEMO_PASSWORD, passwordSignIn, ROOT, startStack } from './stack';

async function main(): Promise<void> {
  const out = process.argv[2] ?? join(ROOT, '.dizi/screens');
  mkdirSync(out, { recursive: true });
  const stack = await startStack();
  try {
    const alice = await signInMailbox(stack, 'alice@demo.test', DEMO_PASSWORD);
    for (let i = 0; i < 12; i++) {
      await importMail(stack, alice, plainMessage({ from: i % 2 ? 'Bob <bob@demo.test>' : '王芳 <wangfang@partner.test>', to: 'alice@demo.test', subject: i % 2 ? `Finance report ${i}` : `财务报告 第 ${i} 期`, text: `请查看本期财务报告。Please see the finance report number ${i}.`, date: new Date(Date.UTC(2026, 11, 7, 9) - i * 3_600_000).toUTCString() }));
    }
    await stack.api('PATCH', '/api/me/preferences', { imageSenders: ['news@shop.example', 'wangfang@partner.test'] }, alice.token);
    for (const locale of ['zh-CN', 'en']) {
      for (const [device, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
        const context = await stack.browser.newContext({ locale, viewport, deviceScaleFactor: 1 });
        await context.addCookies([{ name: 'dizi_locale', value: locale, url: stack.portalUrl }]);
        const page = await context.newPage();
        await passwordSignIn(page, stack.portalUrl, 'alice', DEMO_PASSWORD);
        await page.locator('[data-email-id]').first().waitFor();
        const shot = async (name: string) => {
          await page.waitForTimeout(700);
          const file = join(out, `mail-${name}-${locale}-${device}.png`);
          await page.screenshot({ path: file });
          console.log(file);
        };
        for (const section of ['general', 'vacation', 'forwarding', 'password', 'images', 'folders']) {
          await page.goto(`${stack.portalUrl}/mail/settings/${section}`);
          await page.locator('.ws-main h1').waitFor();
          await shot(`settings-${section}`);
        }
        await page.goto(`${stack.portalUrl}/mail`);
        await page.getByTestId('advanced-search-open').click();
        await page.getByTestId('advanced-search').waitFor();
        await shot('search-panel');
        await page.locator('#wm-adv-text').fill('财务');
        await page.getByTestId('advanced-search').locator('button[type=submit]').click();
        await page.locator('[data-email-id] mark').first().waitFor();
        await shot('search-results');
        const id = await page.locator('[data-email-id]').first().getAttribute('data-email-id');
        await page.goto(`${stack.portalUrl}/mail/message/${id}`);
        await page.locator('#wm-subject').waitFor();
        await shot('full-page');
        await context.close();
      }
    }
  } finally {
    await stack.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
