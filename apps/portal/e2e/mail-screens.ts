/**
 * Screenshots of the webmail at desktop and phone width, in Simplified Chinese and English, for people to look at
 * (not a test). `node -r ./tools/register.cjs apps/portal/e2e/mail-screens.ts [outDir]`; default .dizi/screens.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createFolder, importMail, plainMessage, signInMailbox } from './mail-fixture';
import { DEMO_PASSWORD, passwordSignIn, ROOT, startStack } from './stack';

const NEWSLETTER = [
  'From: Dizi News <news@partner.test>',
  'To: alice@demo.test',
  'Subject: =?UTF-8?B?' + Buffer.from('十二月通讯 December newsletter').toString('base64') + '?=',
  'Date: Mon, 07 Dec 2026 10:30:00 +0000',
  'MIME-Version: 1.0',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<h1 style="color:#1557b0">December newsletter</h1><p>Hello Alice, here is what changed this month.</p><img src="https://tracker.example/pixel.gif" width="600" height="200" alt="Banner"><ul><li><b>Webmail</b> is live</li><li>JMAP for your apps</li></ul><p><a href="https://example.org/more">Read more</a></p>',
  '',
].join('\r\n');

async function main(): Promise<void> {
  const out = process.argv[2] ?? join(ROOT, '.dizi/screens');
  mkdirSync(out, { recursive: true });
  const stack = await startStack();
  try {
    const alice = await signInMailbox(stack, 'alice@demo.test', DEMO_PASSWORD);
    await createFolder(stack, alice, 'Projects');
    const senders = ['Bob <bob@demo.test>', '王芳 <wangfang@partner.test>', 'Carol <carol@partner.test>', '李雷 <lilei@partner.test>'];
    for (let i = 0; i < 24; i++) {
      await importMail(
        stack,
        alice,
        plainMessage({ from: senders[i % 4], to: 'alice@demo.test', subject: i % 2 ? `Project update ${i}` : `项目进展 第 ${i} 周`, text: `第 ${i} 条消息。Message number ${i}.\nhttps://example.org/${i}`, date: new Date(Date.UTC(2026, 11, 7, 9) - i * 3_600_000).toUTCString() }),
        'inbox',
        i % 3 ? { $seen: true } : i % 5 === 0 ? { $flagged: true } : {},
      );
    }
    await importMail(stack, alice, NEWSLETTER);
    for (const locale of ['zh-CN', 'en']) {
      for (const [device, viewport] of [['desktop', { width: 1366, height: 900 }], ['phone', { width: 390, height: 844 }]] as const) {
        const context = await stack.browser.newContext({ locale, viewport, deviceScaleFactor: 1 });
        await context.addCookies([{ name: 'dizi_locale', value: locale, url: stack.portalUrl }]);
        const page = await context.newPage();
        await passwordSignIn(page, stack.portalUrl, 'alice', DEMO_PASSWORD);
        await page.locator('[data-email-id]').first().waitFor();
        const shot = async (name: string) => {
          await page.waitForTimeout(500);
          const file = join(out, `mail-${name}-${locale}-${device}.png`);
          await page.screenshot({ path: file });
          console.log(file);
        };
        await shot('list');
        await page.locator('[data-email-id] .wm-row-main').first().click();
        await page.getByTestId('mail-frame').waitFor();
        await shot('html-blocked');
        if (device === 'desktop') {
          await page.locator('.wm-row-main').nth(1).click();
          await page.getByTestId('mail-text').waitFor();
          await shot('text');
        }
        await page.keyboard.press('c');
        await page.locator('#wm-to').waitFor();
        await shot('compose');
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
