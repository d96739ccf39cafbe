// Drives Debian's Chromium through the call-log page, one scenario per run:
//   node calllog.mjs SCENARIO  (settings in $RINGLOG_BROWSER as JSON: url, token, ...)
// Prints one JSON object with what the page showed and did; the Python test
// (tests/integration/test_browser.py) set the world up and checks it.
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const cfg = JSON.parse(process.env.RINGLOG_BROWSER || '{}');
const scenario = process.argv[2];
// Answers a scenario provokes on purpose (an expired play link, a 503).
const expectedErrors = [...(cfg.expired_url ? ['/v1/recordings/'] : []), ...(cfg.expected_errors || [])];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // A machine with no network to speak of: no background connections.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const result = { scenario, console: [] };
let page;

async function newPage(options = {}) {
  const context = await browser.newContext({
    viewport: { width: options.width || 1100, height: options.height || 800 },
    locale: options.locale || cfg.locale || 'en-US',
    timezoneId: cfg.tz || 'Asia/Jerusalem',
    bypassCSP: Boolean(options.bypassCSP), // only to inject axe-core
  });
  const p = await context.newPage();
  p.on('console', (m) => {
    if (m.type() === 'error' && !(expectedErrors.length && /status of (401|403|404|503|500)/.test(m.text()))) result.console.push(m.text());
  });
  // Which resource failed, when one did (the console only says "a 404").
  p.on('response', (r) => { if (r.status() >= 400 && !expectedErrors.some((e) => r.url().includes(e))) result.console.push(`${r.status()} ${r.url()}`); });
  p.on('pageerror', (e) => result.console.push(`pageerror: ${e.message}`));
  page = p;
  return p;
}

const pageUrl = (query) => `${cfg.url}/ui/?${new URLSearchParams(query)}#token=${encodeURIComponent(cfg.token)}`;

async function open(query = {}, options = {}) {
  await newPage(options);
  await page.goto(pageUrl(query));
  await page.waitForSelector('#calls tbody tr', { timeout: 10000 });
}

const openLead = (extra = {}, options = {}) => open({ lead_id: cfg.lead_id, ...extra }, options);

// Rows as a person reads them.
async function rows() {
  return page.$$eval('#calls tbody tr', (trs) => trs.map((tr) => ({
    id: Number(tr.dataset.callId),
    cells: [...tr.cells].map((td) => td.innerText.trim()),
    audio: tr.querySelectorAll('audio').length,
    dirAuto: [...tr.querySelectorAll('bdi[dir=auto]')].length,
    recError: tr.querySelector('.rec-error') ? tr.querySelector('.rec-error').innerText : null,
  })));
}

const rowIds = () => page.$$eval('#calls tbody tr', (trs) => trs.map((tr) => Number(tr.dataset.callId)));

// Waits until the rows stop changing after a filter (a search is debounced).
async function settled() {
  await page.waitForFunction(() => !document.querySelector('#calls[aria-busy]'), null, { timeout: 10000 });
  let before = JSON.stringify(await rowIds());
  for (let i = 0; i < 20; i++) {
    await page.waitForTimeout(250);
    await page.waitForFunction(() => !document.querySelector('#calls[aria-busy]'), null, { timeout: 10000 });
    const now = JSON.stringify(await rowIds());
    if (now === before && i >= 2) return JSON.parse(now);
    before = now;
  }
  return JSON.parse(before);
}

// Where the first occurrence of TEXT is drawn inside the element SELECTOR (x of its left edge).
async function textX(selector, text) {
  return page.$eval(selector, (root, needle) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const at = node.data.indexOf(needle);
      if (at < 0) continue;
      const range = document.createRange();
      range.setStart(node, at);
      range.setEnd(node, at + needle.length);
      return range.getBoundingClientRect().left;
    }
    return null;
  }, text);
}

async function axe() {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const out = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help,
      targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return out;
}

const scenarios = {
  // The page lists the lead's calls, its name, the CRM link and open tasks.
  async calllog() {
    await openLead();
    result.lead = await page.textContent('#lead-name');
    result.leadDir = await page.getAttribute('#lead-name', 'dir');
    result.leadPhone = await page.textContent('#lead-phone');
    result.crm = await page.$eval('#lead-crm', (a) => (a.hidden ? null : a.href));
    result.rows = await rows();
    result.tasks = await page.$$eval('#task-list li', (lis) => lis.map((li) => li.innerText));
    result.title = await page.textContent('#calls-title');
  },

  // Filters, search and more pages on the page of every call.
  async filters() {
    await open({});
    const out = {};
    out.first = await rowIds();
    out.moreVisible = await page.isVisible('#more');
    await page.click('#more');
    await page.waitForFunction((n) => document.querySelectorAll('#calls tbody tr').length > n, out.first.length, { timeout: 10000 });
    out.all = await settled();
    out.moreAfter = await page.isVisible('#more');
    await page.fill('#f-q', cfg.search_name);
    out.byName = await settled();
    await page.fill('#f-q', cfg.search_number);
    out.byNumber = await settled();
    out.urlAfterSearch = page.url();
    await page.fill('#f-q', '');
    await settled();
    await page.selectOption('#f-disposition', 'missed');
    out.missed = await settled();
    await page.selectOption('#f-disposition', '');
    await page.selectOption('#f-direction', 'out');
    out.outgoing = await settled();
    await page.selectOption('#f-direction', '');
    await page.fill('#f-from', cfg.from);
    await page.fill('#f-to', cfg.to);
    await page.dispatchEvent('#f-to', 'change');
    out.dated = await settled();
    await page.fill('#f-from', cfg.to);
    await page.fill('#f-to', cfg.from);
    await page.dispatchEvent('#f-to', 'change');
    await page.waitForSelector('#filter-error:not([hidden])', { timeout: 5000 });
    out.badDates = await page.textContent('#filter-error');
    await page.click('#f-clear');
    await settled();
    out.agentOptions = await page.$$eval('#f-agent option', (os) => os.map((o) => ({ value: o.value, text: o.textContent })));
    await page.selectOption('#f-agent', cfg.me);
    out.mine = await settled();
    out.urlAfterAgent = page.url();
    // a reload keeps the filters (they are in the address)
    await page.reload();
    await page.waitForSelector('#calls tbody tr', { timeout: 10000 });
    out.afterReload = { agent: await page.inputValue('#f-agent'), rows: await settled() };
    // a search with no match says so
    await page.fill('#f-q', 'zzzz-nobody');
    await page.waitForSelector('#calls-empty:not([hidden])', { timeout: 10000 });
    out.empty = await page.textContent('#calls-empty');
    Object.assign(result, out);
  },

  // Listening: duration before play, speed, keyboard, download, one at a time.
  async listen() {
    const audioRequests = [];
    await newPage();
    page.on('request', (r) => { if (r.url().includes('/v1/recordings/')) audioRequests.push(r.url()); });
    await page.goto(pageUrl({ lead_id: cfg.lead_id }));
    await page.waitForSelector('.player', { timeout: 10000 });
    const players = page.locator('.player');
    result.players = await players.count();
    result.before = await players.first().locator('.time').textContent();
    result.requestsBeforePlay = audioRequests.length;
    // keyboard: focus the play button, press k to play
    const first = players.first();
    await first.locator('.play').focus();
    await page.keyboard.press('k');
    await page.waitForFunction(() => { const a = document.querySelector('.player audio'); return !a.paused && a.currentTime > 0.3; }, null, { timeout: 10000 });
    result.playLabel = await first.locator('.play').getAttribute('aria-label');
    const t0 = await first.locator('audio').evaluate((a) => a.currentTime);
    await page.keyboard.press('l');
    result.skipped = (await first.locator('audio').evaluate((a) => a.currentTime)) - t0;
    // speed 1× → 1.5× → 2× → 1×
    const rates = [];
    for (let i = 0; i < 3; i++) {
      await first.locator('.speed').click();
      rates.push([await first.locator('.speed').textContent(), await first.locator('audio').evaluate((a) => a.playbackRate)]);
    }
    result.rates = rates;
    // playing the second pauses the first
    await players.nth(1).locator('.play').click();
    await page.waitForFunction(() => { const a = document.querySelectorAll('.player audio'); return !a[1].paused && a[0].paused; }, null, { timeout: 10000 });
    result.onePlays = await page.$$eval('.player audio', (as) => as.map((a) => !a.paused));
    await page.keyboard.press('k'); // the focus is on the second's play button: k pauses it
    result.pausedByKey = await players.nth(1).locator('audio').evaluate((a) => a.paused);
    // download: an attachment of the recording
    const href = await first.locator('.download').getAttribute('href');
    const response = await page.request.get(new URL(href, cfg.url).toString());
    result.download = { status: response.status(), disposition: response.headers()['content-disposition'] || '', type: response.headers()['content-type'] };
    result.downloadName = await first.locator('.download').getAttribute('aria-label');
  },

  // Play makes time advance; seeking to the middle is served by a 206.
  async play() {
    const ranges = [];
    await newPage();
    page.on('response', (r) => {
      if (r.url().includes('/v1/recordings/'))
        ranges.push({ status: r.status(), range: r.request().headers().range || null });
    });
    await page.goto(pageUrl({ lead_id: cfg.lead_id }));
    await page.waitForSelector('#calls tbody tr', { timeout: 10000 });
    const audio = page.locator('audio').first();
    await audio.evaluate((a) => a.play());
    await page.waitForFunction(() => document.querySelector('audio').currentTime > 0.5, null, { timeout: 10000 });
    result.duration = await audio.evaluate((a) => a.duration);
    await audio.evaluate((a) => { a.currentTime = a.duration / 2; });
    await page.waitForFunction(() => { const a = document.querySelector('audio'); return a.currentTime > a.duration / 2 + 0.3; }, null, { timeout: 10000 });
    result.after_seek_time = await audio.evaluate((a) => a.currentTime);
    result.shown = await page.locator('.player .time').first().textContent();
    result.responses = ranges;
  },

  // A play link that has expired says so, in words a person can act on.
  async expired() {
    await newPage();
    await page.route('**/v1/calls?*', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      for (const call of body.calls) for (const rec of call.recordings) if (rec.play_url) rec.play_url = cfg.expired_url;
      await route.fulfill({ response, json: body });
    });
    await page.goto(pageUrl({ lead_id: cfg.lead_id }));
    await page.waitForSelector('#calls tbody tr', { timeout: 10000 });
    await page.locator('audio').first().evaluate((a) => a.play().catch(() => {}));
    await page.waitForSelector('.rec-error', { timeout: 10000 });
    result.message = await page.locator('.rec-error').first().innerText();
    result.hasReload = await page.locator('.rec-error button').first().textContent();
  },

  // Errors: a person's words and a retry, never the backend's message.
  async errors() {
    await newPage();
    let failing = true;
    await page.route('**/v1/calls?*', async (route) => {
      if (failing) await route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: 'unavailable', message: 'the database is unreachable: PQconnect failed' }) });
      else await route.continue();
    });
    await page.goto(pageUrl({ lead_id: cfg.lead_id }));
    await page.waitForSelector('#notice:not([hidden])', { timeout: 10000 });
    result.notice = await page.textContent('#notice-text');
    result.retryVisible = await page.isVisible('#notice-retry');
    failing = false;
    await page.click('#notice-retry');
    await page.waitForSelector('#calls tbody tr', { timeout: 10000 });
    result.afterRetry = (await rowIds()).length;
    result.noticeHidden = await page.isHidden('#notice');
    // a 401 of an expired session: no retry, what to do instead
    await page.route('**/v1/calls?*', (route) => route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: 'unauthorized', message: 'the session has expired' }) }));
    await page.selectOption('#f-disposition', 'missed');
    await page.waitForSelector('#notice:not([hidden])', { timeout: 10000 });
    result.expired = await page.textContent('#notice-text');
    result.expiredRetry = await page.isVisible('#notice-retry');
    result.unavailable = await page.$$eval('.rec-error', (es) => es.map((e) => e.innerText));
  },

  // A contact ringlog does not know yet: said so, and no one else's calls.
  async missing() {
    await newPage();
    await page.goto(pageUrl({ lead_id: 999999 }));
    await page.waitForSelector('#calls-empty:not([hidden])', { timeout: 10000 });
    result.notice = await page.textContent('#notice-text');
    result.rows = (await rowIds()).length;
  },

  // Works from the page: a task closed, calling back from a task.
  async tasks() {
    await open({});
    await page.waitForSelector('#task-list li', { timeout: 10000 });
    result.before = await page.$$eval('#task-list li', (lis) => lis.map((li) => ({ id: Number(li.dataset.taskId), text: li.innerText })));
    const first = page.locator('#task-list li').first();
    await first.locator('button', { hasText: 'Call back' }).click();
    await page.waitForFunction(() => { const s = document.querySelector('#task-list li .task-status'); return s && s.textContent && !s.textContent.startsWith('Asking'); }, null, { timeout: 10000 });
    result.callStatus = await first.locator('.task-status').textContent();
    await first.locator('button', { hasText: 'Done' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('#task-list li').length < n, result.before.length, { timeout: 10000 });
    result.after = await page.$$eval('#task-list li', (lis) => lis.map((li) => Number(li.dataset.taskId)));
    result.tasksHidden = await page.isHidden('#tasks');
  },

  // Open in CRM from the source's template when the lead has no URL.
  async crm() {
    await open({ lead_id: cfg.other_lead });
    result.crm = await page.$eval('#lead-crm', (a) => (a.hidden ? null : a.href));
    result.target = await page.getAttribute('#lead-crm', 'target');
  },

  // Call back reaches the click-to-call PBX; the page says what happens.
  async callback() {
    await openLead();
    await page.click('#call-back');
    await page.waitForFunction(() => { const t = document.querySelector('#call-status').textContent; return t && !t.startsWith('Asking'); }, null, { timeout: 10000 });
    result.status = await page.textContent('#call-status');
  },

  // Fits a side panel: nothing wider than the window, the player reachable.
  async narrow() {
    result.widths = {};
    for (const width of [360, 400, 1280]) {
      for (const query of [{ lead_id: cfg.lead_id }, {}]) {
        await open(query, { width, height: 800 });
        await page.waitForSelector('.player', { timeout: 10000 });
        const m = await page.evaluate(() => {
          const play = document.querySelector('.player .play').getBoundingClientRect();
          const download = document.querySelector('.player .download').getBoundingClientRect();
          return { scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth,
            play: [play.left, play.right], download: [download.left, download.right],
            filters: document.querySelector('#filters').getBoundingClientRect().right };
        });
        result.widths[`${width}${query.lead_id ? '-lead' : '-all'}`] = m;
        await page.context().close();
      }
    }
  },

  // Every language: labels, direction, the browser's language as default.
  async languages() {
    result.langs = {};
    for (const lang of ['en', 'he', 'uk', 'hu', 'ru']) {
      await openLead({ lang });
      result.langs[lang] = {
        dir: await page.getAttribute('html', 'dir'), htmlLang: await page.getAttribute('html', 'lang'),
        title: await page.textContent('#calls-title'), callBack: await page.textContent('#call-back'),
        head: await page.$$eval('#calls th', (ths) => ths.map((th) => th.textContent.trim())),
        search: await page.getAttribute('#f-q', 'placeholder'),
        result: (await rows())[0].cells[5],
      };
      await page.context().close();
    }
    // no ?lang=: the browser's language
    await openLead({}, { locale: 'hu-HU' });
    result.browserHu = await page.textContent('#calls-title');
    await page.context().close();
    // Hebrew: numbers and dates keep their order inside right-to-left text
    await openLead({ lang: 'he' });
    const row = `#calls tbody tr[data-call-id="${cfg.dated_call}"]`;
    result.he = {
      timeDir: await page.getAttribute(`${row} time`, 'dir'),
      dateText: await page.textContent(`${row} time`),
      dayX: await textX(`${row} time`, cfg.dated_day), yearX: await textX(`${row} time`, '2025'),
      phoneText: await page.textContent('#lead-phone'),
      plusX: await textX('#lead-phone', '+'), lastX: await textX('#lead-phone', cfg.phone_last),
      lengthDir: await page.getAttribute(`${row} td.length bdi`, 'dir'),
      headX: await page.$eval('#calls th:nth-child(2)', (th) => th.getBoundingClientRect().left),
      whoX: await page.$eval('#calls th:nth-child(3)', (th) => th.getBoundingClientRect().left),
      playerX: [await textX(`${row} .time`, '0:00'), await textX(`${row} .time`, '2:22')],
      speedX: [await textX(`${row} .speed`, '1'), await textX(`${row} .speed`, '×')],
    };
  },

  // Screenshots at 1280 and 400 px in English and Hebrew, each checked by axe-core.
  async screenshots() {
    result.shots = [];
    result.axe = {};
    for (const lang of ['en', 'he']) {
      for (const width of [1280, 400]) {
        for (const [name, query] of [['lead', { lead_id: cfg.lead_id }], ['all', {}]]) {
          await newPage({ width, height: 900, bypassCSP: true });
          await page.goto(pageUrl({ ...query, lang }));
          await page.waitForSelector('#calls tbody tr', { timeout: 10000 });
          if (name === 'lead') await page.waitForSelector('#task-list li', { timeout: 10000 });
          await page.waitForTimeout(300);
          const path = `${cfg.screenshots}/calllog-${name}-${lang}-${width}.png`;
          await page.screenshot({ path, fullPage: true });
          result.shots.push(path);
          result.axe[`${name}-${lang}-${width}`] = await axe();
          await page.context().close();
        }
      }
    }
  },

  // A ringing call appears in the live view and leaves on hangup.
  async live() {
    await newPage();
    await page.goto(pageUrl({}));
    await page.waitForSelector('#live:not([hidden])', { timeout: 10000 });
    console.log(JSON.stringify({ ready: true }));
    // The test sends Ringing now and tells us through stdin; wait for it.
    await page.waitForSelector(`#live-list li[data-ivrid="${cfg.ivrid}"]`, { timeout: 15000 });
    result.shown = await page.textContent(`#live-list li[data-ivrid="${cfg.ivrid}"]`);
    const timer = page.locator(`#live-list li[data-ivrid="${cfg.ivrid}"] .live-timer`);
    const t1 = await timer.textContent();
    await page.waitForTimeout(2200);
    result.timer = [t1, await timer.textContent()];
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
  if (cfg.screenshots && page) await page.screenshot({ path: `${cfg.screenshots}/failed-${scenario}.png`, fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
process.exit(result.ok ? 0 : 1);
