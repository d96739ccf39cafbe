// Drives Debian's Chromium through the call-log page, one scenario per run:
//   node calllog.mjs SCENARIO  (settings in $RINGLOG_BROWSER as JSON: url, token, ...)
// Prints one JSON object with what the page showed and did; the Python test
// (tests/integration/test_browser.py) set the world up and checks it.
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.env.RINGLOG_BROWSER || '{}');
const scenario = process.argv[2];
// Answers a scenario provokes on purpose (an expired play link).
const expectedErrors = cfg.expired_url ? ['/v1/recordings/'] : [];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // A machine with no network to speak of: no background connections.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 800 }, locale: 'he-IL', timezoneId: cfg.tz || 'Asia/Jerusalem' });
const result = { scenario, console: [] };
page.on('console', (m) => {
  if (m.type() === 'error' && !(expectedErrors.length && /status of 403/.test(m.text()))) result.console.push(m.text());
});
// Which resource failed, when one did (the console only says "a 404").
page.on('response', (r) => { if (r.status() >= 400 && !expectedErrors.some((e) => r.url().includes(e))) result.console.push(`${r.status()} ${r.url()}`); });

const pageUrl = (query) => `${cfg.url}/ui/?${new URLSearchParams(query)}#token=${encodeURIComponent(cfg.token)}`;

async function openLead() {
  await page.goto(pageUrl({ lead_id: cfg.lead_id }));
  await page.waitForSelector('#calls tbody tr', { timeout: 10000 });
}

// Rows as a person reads them.
async function rows() {
  return page.$$eval('#calls tbody tr', (trs) => trs.map((tr) => ({
    id: Number(tr.dataset.callId),
    cells: [...tr.cells].map((td) => td.innerText.trim()),
    audio: tr.querySelectorAll('audio').length,
    dirAuto: [...tr.querySelectorAll('bdi[dir=auto]')].length,
  })));
}

const scenarios = {
  // The page lists the lead's calls, its name and open tasks.
  async calllog() {
    await openLead();
    result.lead = await page.textContent('#lead-name');
    result.leadDir = await page.getAttribute('#lead-name', 'dir');
    result.rows = await rows();
    result.tasks = await page.$$eval('#task-list li', (lis) => lis.map((li) => li.innerText));
    if (cfg.screenshot) await page.screenshot({ path: cfg.screenshot, fullPage: true });
  },

  // Play makes time advance; seeking to the middle is served by a 206.
  async play() {
    const ranges = [];
    page.on('response', (r) => {
      if (r.url().includes('/v1/recordings/'))
        ranges.push({ status: r.status(), range: r.request().headers().range || null });
    });
    await openLead();
    const audio = page.locator('audio').first();
    await audio.evaluate((a) => a.play());
    await page.waitForFunction(() => document.querySelector('audio').currentTime > 0.5, null, { timeout: 10000 });
    result.duration = await audio.evaluate((a) => a.duration);
    result.before_seek = ranges.length;
    await audio.evaluate((a) => { a.currentTime = a.duration / 2; });
    await page.waitForFunction(() => { const a = document.querySelector('audio'); return a.currentTime > a.duration / 2 + 0.3; }, null, { timeout: 10000 });
    result.after_seek_time = await audio.evaluate((a) => a.currentTime);
    result.responses = ranges;
  },

  // A play link that has expired says so, in words a person can act on.
  async expired() {
    await page.route('**/v1/calls?*', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      for (const call of body.calls) for (const rec of call.recordings) if (rec.play_url) rec.play_url = cfg.expired_url;
      await route.fulfill({ response, json: body });
    });
    await openLead();
    await page.locator('audio').first().evaluate((a) => a.play().catch(() => {}));
    await page.waitForSelector('.rec-error', { timeout: 10000 });
    result.message = await page.textContent('.rec-error');
  },

  // Call back reaches the click-to-call PBX; the page says what happens.
  async callback() {
    await openLead();
    await page.click('#call-back');
    await page.waitForFunction(() => { const t = document.querySelector('#call-status').textContent; return t && !t.startsWith('Asking'); }, null, { timeout: 10000 });
    result.status = await page.textContent('#call-status');
  },

  // A ringing call appears in the live view and leaves on hangup.
  async live() {
    await page.goto(pageUrl({}));
    await page.waitForSelector('#live:not([hidden])', { timeout: 10000 });
    console.log(JSON.stringify({ ready: true }));
    // The test sends Ringing now and tells us through stdin; wait for it.
    await page.waitForSelector(`#live-list li[data-ivrid="${cfg.ivrid}"]`, { timeout: 15000 });
    result.shown = await page.textContent(`#live-list li[data-ivrid="${cfg.ivrid}"]`);
    console.log(JSON.stringify({ shown: true }));
    await page.waitForSelector(`#live-list li[data-ivrid="${cfg.ivrid}"]`, { state: 'detached', timeout: 15000 });
    result.left = true;
  },
};

try {
  if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}`);
  await scenarios[scenario]();
  result.ok = true;
} catch (error) {
  result.ok = false;
  result.error = String(error && error.message || error);
  if (cfg.screenshot) await page.screenshot({ path: cfg.screenshot.replace(/\.png$/, `-${scenario}-failed.png`), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
