/**
 * The webmail in Chromium with a 100,000-message INBOX: time from sign-in to the first rows of the list and to an
 * opened message, cold (new browser profile) and warm (reload), with the bytes transferred; JavaScript shipped for
 * the page (compressed, as sent) and the largest contentful paint. Prints figures; never pass/fail.
 *   node -r ./tools/register.cjs bench/webmail/run.ts      (BENCH_MESSAGES=100000)
 */
import type { CDPSession, Page } from 'playwright-core';
import { importMail, plainMessage, signInMailbox } from '../../apps/portal/e2e/mail-fixture';
import { DEMO_PASSWORD, startStack } from '../../apps/portal/e2e/stack';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);

interface Transfer {
  bytes: number;
  scriptBytes: number;
}

async function watchTransfer(page: Page): Promise<{ cdp: CDPSession; t: Transfer }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  const t: Transfer = { bytes: 0, scriptBytes: 0 };
  const types = new Map<string, string>();
  cdp.on('Network.responseReceived', (e) => types.set(e.requestId, e.type));
  cdp.on('Network.loadingFinished', (e) => {
    t.bytes += e.encodedDataLength;
    if (types.get(e.requestId) === 'Script') t.scriptBytes += e.encodedDataLength;
  });
  return { cdp, t };
}

const firstRow = (page: Page) => page.locator('[data-testid="message-list"] [data-email-id]').first().waitFor({ timeout: 300_000 });

async function main() {
  const stack = await startStack();
  try {
    const alice = await signInMailbox(stack, 'alice@demo.test', DEMO_PASSWORD);
    const seed = await importMail(stack, alice, plainMessage({ from: 'Bench <bench@partner.test>', to: 'alice@demo.test', subject: 'Bench message', text: '基准测试 benchmark body text.\n'.repeat(20) }));
    // Copies of the seed row, each with its own UID, MODSEQ, date, subject and Message-ID (the store's own columns).
    const started = Date.now();
    const columns = (
      await stack.db.dataSource.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'message' AND table_schema = 'public' AND is_generated = 'NEVER' AND column_default IS NULL`)
    ).map((c: { column_name: string }) => c.column_name as string).filter((c: string) => !['id', 'uid', 'modseq', 'internal_date', 'subject', 'message_id', 'delivery_key', 'thread_id'].includes(c));
    const [{ id: messageRowId }] = await stack.db.dataSource.query(`SELECT id FROM message WHERE folder_id = $1 ORDER BY uid DESC LIMIT 1`, [alice.folders.inbox]);
    const n = MESSAGES - 1;
    // thread_id given (each copy its own thread): the trigger that would look each one up by Message-ID is skipped.
    await stack.db.dataSource.query(
      `INSERT INTO message (${columns.join(', ')}, uid, modseq, internal_date, subject, message_id, thread_id)
       SELECT ${columns.map((c: string) => `s.${c}`).join(', ')}, f.uid_next + g, f.highest_modseq + g, s.internal_date - g * interval '1 minute',
              'Bench message ' || g, 'bench.' || g || '@partner.test', 9000000000 + g
         FROM message s JOIN folder f ON f.id = s.folder_id, generate_series(1, $2::int) g WHERE s.id = $1`,
      [messageRowId, n],
    );
    await stack.db.dataSource.query(
      `UPDATE folder SET uid_next = uid_next + $2, highest_modseq = highest_modseq + $2, message_count = message_count + $2, unseen_count = unseen_count + $2 WHERE id = $1`,
      [alice.folders.inbox, n],
    );
    console.log(`filled INBOX with ${MESSAGES} messages in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed.id})`);

    const context = await stack.browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // Each page of the list as it is asked for and answered (position, milliseconds).
    const asked = new Map<string, number>();
    page.on('request', (r) => r.url().endsWith('/bff/jmap/api') && r.postData()?.includes('"Email/query"') && asked.set(r.postData()!, Date.now()));
    page.on('requestfinished', (r) => {
      const body = r.postData();
      if (!body || !asked.has(body)) return;
      const position = JSON.parse(body).methodCalls[0][1].position;
      if (process.env.BENCH_VERBOSE) console.log(`  Email/query position ${position}: ${Date.now() - asked.get(body)!} ms`);
    });
    for (const round of ['cold', 'warm'] as const) {
      const { cdp, t } = await watchTransfer(page);
      let t0 = Date.now();
      if (round === 'cold') {
        // Cold: a new browser profile signs in and lands in the INBOX.
        await page.goto(`${stack.portalUrl}/sign-in`);
        await page.locator('#username').fill('alice');
        await page.locator('#password').fill(DEMO_PASSWORD);
        t.bytes = 0;
        t.scriptBytes = 0;
        t0 = Date.now();
        await page.locator('form[action="/auth/sign-in"] button[type=submit]').click();
      } else {
        // Warm: the same profile (scripts cached, signed in) opens the webmail again.
        await page.goto(`${stack.portalUrl}/mail`);
      }
      await firstRow(page);
      const toList = Date.now() - t0;
      console.log(`${round}: first rows after ${toList} ms`);
      const listBytes = t.bytes;
      const scripts = t.scriptBytes;
      // Written as strings: this script is compiled without the DOM's types.
      const lcp = Number(
        await page.evaluate(
          `new Promise((resolve) => { new PerformanceObserver((l) => resolve(l.getEntries().at(-1).startTime)).observe({ type: 'largest-contentful-paint', buffered: true }); setTimeout(() => resolve(-1), 3000); })`,
        ),
      );
      const t1 = Date.now();
      await page.locator('[data-testid="message-list"] [data-email-id] .wm-row-main').nth(round === 'cold' ? 0 : 1).click();
      await page.getByTestId('mail-text').waitFor({ timeout: 120_000 });
      const toOpen = Date.now() - t1;
      console.log(`${round}: message open after ${toOpen} ms`);
      // Scrolling to the middle of the folder: the rows there come from one page fetched by position.
      // Chromium writes large offsets as 3.4e+06px: the whole number is read, not its first digits (which never passed 1,000,000).
      const t2 = Date.now();
      const scrolled = await page.getByTestId('message-list').evaluate((el) => {
        el.scrollTop = el.scrollHeight / 2;
        return `${el.scrollTop} of ${el.scrollHeight}`;
      });
      if (process.env.BENCH_VERBOSE) console.log(`  scrolled to ${scrolled}`);
      const reached = await page
        .waitForFunction(`[...document.querySelectorAll('[data-testid="message-list"] [data-email-id]')].some((el) => Number(el.style.transform.match(/translateY\\(([^)]+)px\\)/)?.[1]) > 1000000)`, null, { timeout: 180_000 })
        .then(() => true, () => false);
      const toMiddle = reached ? Date.now() - t2 : NaN;
      console.log(
        `${round}: to first rows ${toList} ms (${(listBytes / 1024).toFixed(0)} KiB transferred, JavaScript ${(scripts / 1024).toFixed(0)} KiB as sent, LCP ${lcp.toFixed(0)} ms); ` +
          `open a message ${toOpen} ms; jump to the middle of ${MESSAGES} rows ${toMiddle} ms; transferred in all ${(t.bytes / 1024).toFixed(0)} KiB`,
      );
      await cdp.detach();
    }
    // JavaScript of /mail alone for a browser with an empty cache (the session carried over).
    const fresh = await stack.browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, storageState: await context.storageState() });
    const freshPage = await fresh.newPage();
    const { t: ft } = await watchTransfer(freshPage);
    await freshPage.goto(`${stack.portalUrl}/mail`);
    await firstRow(freshPage);
    console.log(`/mail with an empty cache: JavaScript ${(ft.scriptBytes / 1024).toFixed(0)} KiB as sent (compressed), everything ${(ft.bytes / 1024).toFixed(0)} KiB`);
    await fresh.close();
    await context.close();
  } finally {
    await stack.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
