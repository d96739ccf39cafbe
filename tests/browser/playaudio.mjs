// Plays recordings in Debian's Chromium, one <audio> element each:
//   node playaudio.mjs   (settings in $RINGLOG_BROWSER as JSON: {"origin": URL, "urls": [...]})
// Prints one JSON object: per URL whether playing made currentTime advance,
// the media error if there was one, and the duration the browser read.
import { chromium } from 'playwright-core';

const cfg = JSON.parse(process.env.RINGLOG_BROWSER || '{}');
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const result = { plays: [] };
try {
  const page = await browser.newPage();
  await page.goto(`${cfg.origin}/healthz`);
  for (const url of cfg.urls) {
    result.plays.push(await page.evaluate(async (src) => {
      const a = new Audio();
      a.muted = true;
      a.src = src;
      const out = { url: src };
      try {
        await a.play();
        const t0 = Date.now();
        while (a.currentTime < 0.5 && !a.error && Date.now() - t0 < 8000)
          await new Promise((r) => setTimeout(r, 50));
      } catch (e) {
        out.playError = String(e);
      }
      out.currentTime = a.currentTime;
      out.duration = a.duration;
      out.error = a.error ? `${a.error.code} ${a.error.message}` : null;
      a.pause();
      a.removeAttribute('src');
      a.load();
      return out;
    }, url));
  }
} catch (e) {
  result.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
