// Chromium helpers shared by the browser cases: wisp's own publish and watch pages driven through
// the element ids and window.wisp contract of web/README.md.
import { assert, logPage, pending, waitFor } from "./harness.mjs";

/**
 * openPublisher opens /publish/{name} in a new context, types the key, presses Start and waits for
 * connected. opts.media ("both", "video", "audio") and opts.codec (a lower-case MIME type such as
 * "video/vp8") are chosen in the page's #media and #codec first; opts.simulcast ticks #simulcast.
 */
export async function openPublisher(browser, base, name, key, log, opts = {}) {
  const ctx = await browser.newContext({ permissions: ["camera", "microphone"] });
  const page = await ctx.newPage();
  logPage(page, "publish", log);
  await page.goto(`${base}/publish/${encodeURIComponent(name)}`);
  if (key) await page.fill("#key", key);
  if (opts.media) await page.selectOption("#media", opts.media);
  if (opts.codec) await page.selectOption("#codec", opts.codec);
  if (opts.simulcast) await page.check("#simulcast");
  await page.click("#start");
  await waitFor("publish page #state connected", async () => {
    const s = await page.getAttribute("#state", "data-state");
    assert(s !== "failed" || (await page.textContent("#status")).includes("retrying"), `publish failed: ${await page.textContent("#status")}`);
    return s === "connected" || pending({ state: s, status: await page.textContent("#status") });
  }, { timeoutMs: 20000 });
  return { ctx, page };
}

/** openWatcher opens /watch/{name} in a new browser context. */
export async function openWatcher(browser, base, name, log, label = "watch") {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  logPage(page, label, log);
  await page.goto(`${base}/watch/${encodeURIComponent(name)}`);
  return { ctx, page };
}

/** watchStats is window.wisp.stats() plus the player's videoWidth/videoHeight. */
export function watchStats(page) {
  return page.evaluate(async () => {
    const s = await window.wisp.stats();
    const v = document.querySelector("#player");
    return { ...s, videoWidth: v.videoWidth, videoHeight: v.videoHeight };
  });
}

/** waitDecoded waits until the watch page decoded at least n frames with a non-zero picture size. */
export function waitDecoded(page, n, timeoutMs = 30000) {
  return waitFor(`watch page framesDecoded ≥ ${n} and videoWidth > 0`, async () => {
    const s = await watchStats(page);
    return (s.framesDecoded >= n && s.videoWidth > 0) ? s : pending(s);
  }, { timeoutMs, intervalMs: 500 });
}

/**
 * layerView reads a watch page's layer section as a user sees it (web/README.md): whether it is
 * shown, its buttons (rid, pressed, label; "" is Auto), its rows and the layer it marks as
 * received, with window.wisp's layers and the decoded size.
 */
export function layerView(page) {
  return page.evaluate(async () => {
    const section = document.querySelector("#layers");
    const buttons = [...document.querySelectorAll("#layer-choice button[data-rid]")].map((b) => ({
      rid: b.dataset.rid, pressed: b.getAttribute("aria-pressed") === "true", label: b.getAttribute("aria-label") || b.textContent,
    }));
    const rows = [...document.querySelectorAll("#layer-rows tr")].map((r) => ({ rid: r.dataset.rid, receiving: r.dataset.receiving === "true" }));
    const s = await window.wisp.stats();
    return {
      shown: !section.hidden && section.offsetHeight > 0,
      buttons, rows,
      receiving: window.wisp.receivingLayer,
      choice: window.wisp.layerChoice,
      layers: window.wisp.layers,
      status: document.querySelector("#layer-status").textContent,
      frameWidth: s.frameWidth, frameHeight: s.frameHeight, framesDecoded: s.framesDecoded,
    };
  });
}

/** chooseLayer clicks the watch page's layer button for rid ("" = Auto), as a user would. */
export async function chooseLayer(page, rid) {
  await page.click(`#layer-choice button[data-rid="${rid}"]`);
}
