// Shared parts of the interop cases: processes started and stopped by pid, wisp itself, the
// GStreamer publisher (simple-whip-client) and viewer (gst/whep_viewer.py), headless Chromium,
// bounded polls and artefacts. A case is one file in ../cases/ that calls runCase(); run.sh runs
// each in its own network namespace (lib/netns.sh) under its own time limit.
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const interopDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Settings handed down by run.sh through the environment. */
export const env = {
  wisp: process.env.WISP_BIN || "wisp",
  wispLoad: process.env.WISP_LOAD_BIN || "wisp-load",
  gupnpStub: process.env.WISP_GUPNP_STUB_DIR || "",
  artifacts: process.env.WISP_ARTIFACTS || resolve(interopDir, "..", "test-artifacts", "interop"),
  chromium: process.env.CHROMIUM || commandPath("chromium"),
  firefox: process.env.FIREFOX || commandPath("firefox-esr"),
};

function commandPath(name) {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/** Case failure with a readable reason. */
export class Failure extends Error {}

/** assert throws a Failure with message unless cond. */
export function assert(cond, message) {
  if (!cond) throw new Failure(message);
}

/** sleep resolves after ms. Only for pacing inside bounded polls, never as a wait for a result. */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * waitFor polls fn every intervalMs until it returns a truthy value, and returns it; it throws a
 * Failure naming what was awaited (and the last value seen) after timeoutMs.
 */
export async function waitFor(what, fn, { timeoutMs = 20000, intervalMs = 250 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last && !last.__pending) return last;
    } catch (e) {
      if (e instanceof Failure) throw e;
      last = `error: ${e.message}`;
    }
    if (Date.now() > deadline) {
      throw new Failure(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(last)}`);
    }
    await sleep(intervalMs);
  }
}

/** pending marks a poll result that carries information but is not done yet. */
export const pending = (value) => ({ __pending: true, ...value });

/**
 * Procs starts child processes, logs their output to the case's artefact folder and stops every
 * one of them by pid (SIGTERM, then SIGKILL after a grace period).
 */
export class Procs {
  constructor(dir) {
    this.dir = dir;
    this.children = [];
  }

  /** start spawns cmd; stdout+stderr go to <dir>/<name>.log. Returns the ChildProcess with .exited. */
  start(name, cmd, args, { env: extraEnv = {}, capture = false } = {}) {
    const log = createWriteStream(join(this.dir, `${name}.log`));
    log.write(`$ ${cmd} ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(" ")}\n`);
    const child = spawn(cmd, args, { env: { ...process.env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
    child.name = name;
    child.stdoutText = "";
    child.stdout.on("data", (d) => {
      if (capture) child.stdoutText += d;
      log.write(d);
    });
    child.stderr.on("data", (d) => log.write(d));
    child.exited = new Promise((res) => {
      child.on("exit", (code, signal) => res({ code, signal }));
      child.on("error", (err) => res({ code: -1, signal: null, error: err.message }));
    });
    this.children.push(child);
    return child;
  }

  /** stopAll stops every started process that is still running, by pid, and waits for each. */
  async stopAll(graceMs = 3000) {
    await Promise.all(
      this.children.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null || !c.pid) return;
        try {
          process.kill(c.pid, "SIGTERM");
        } catch {
          return;
        }
        const t = setTimeout(() => {
          try {
            process.kill(c.pid, "SIGKILL");
          } catch {
            /* already gone */
          }
        }, graceMs);
        await c.exited;
        clearTimeout(t);
      }),
    );
  }
}

/**
 * startWisp starts the server built by run.sh on 127.0.0.1 and waits (bounded) until it answers.
 * opts: publishKeys / watchKeys ({stream: key}), corsOrigins (array), http (host:port), udpPort,
 * args (more flags, as an array), name (of the process and its log file, default "wisp").
 */
export async function startWisp(procs, opts = {}) {
  const http = opts.http || "127.0.0.1:8080";
  const args = ["-http", http, "-udp-port", String(opts.udpPort || 8189), "-ice-host", "127.0.0.1", "-ice-tcp=false", "-log-level", "debug", "-metrics", "off"];
  for (const [s, k] of Object.entries(opts.publishKeys || {})) args.push("-publish-key", `${s}=${k}`);
  for (const [s, k] of Object.entries(opts.watchKeys || {})) args.push("-watch-key", `${s}=${k}`);
  if (opts.corsOrigins) args.push("-cors-origins", opts.corsOrigins.join(","));
  args.push(...(opts.args || []));
  const name = opts.name || "wisp";
  const child = procs.start(name, env.wisp, args);
  const base = `http://${http}`;
  await waitFor(`${name} to answer GET /api/streams`, async () => {
    if (child.exitCode !== null) throw new Failure(`${name} exited with ${child.exitCode}; see ${name}.log`);
    return (await fetch(`${base}/api/streams`)).ok;
  }, { timeoutMs: 10000, intervalMs: 100 });
  return base;
}

/** streamInfo returns the /api/streams entry of name, or undefined. */
export async function streamInfo(base, name) {
  const res = await fetch(`${base}/api/streams`, { cache: "no-store" });
  const body = await res.json();
  return body.streams.find((s) => s.name === name);
}

/**
 * waitLive waits until the stream is live with video (and audio when audio is true). With
 * publisher (a started process) it fails at once if that process exits first.
 */
export function waitLive(base, name, { audio = true, timeoutMs = 20000, publisher } = {}) {
  return waitFor(`stream ${name} live`, async () => {
    if (publisher && (publisher.exitCode !== null || publisher.signalCode !== null)) {
      throw new Failure(`${publisher.name} exited (${publisher.exitCode ?? publisher.signalCode}) before ${name} went live; see ${publisher.name}.log`);
    }
    const s = await streamInfo(base, name);
    return s && s.live && s.video && (!audio || s.audio) ? s : pending({ stream: s });
  }, { timeoutMs });
}

/** gstEnv is the environment of GStreamer processes: the no-op gupnp-igd first (see gupnp-stub/). */
export function gstEnv() {
  const ld = [env.gupnpStub, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
  return { LD_LIBRARY_PATH: ld, GST_DEBUG_NO_COLOR: "1" };
}

/** The video encoders simple-whip-client is run with, as a user would write them. */
export const whipVideo = {
  vp8: "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert ! queue ! " +
    "vp8enc deadline=1 target-bitrate=600000 keyframe-max-dist=60 ! rtpvp8pay pt=96 ssrc=1 ! queue ! " +
    "application/x-rtp,media=video,encoding-name=VP8,payload=96",
  h264: "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert ! queue ! " +
    "x264enc tune=zerolatency speed-preset=ultrafast bitrate=600 key-int-max=60 ! video/x-h264,profile=constrained-baseline ! " +
    "rtph264pay pt=102 config-interval=-1 aggregate-mode=zero-latency ssrc=1 ! queue ! " +
    "application/x-rtp,media=video,encoding-name=H264,payload=102",
};

/** The Opus audio pipeline for simple-whip-client. */
export const whipAudio = "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! queue ! " +
  "opusenc ! rtpopuspay pt=111 ssrc=2 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111";

/** startWhipClient runs simple-whip-client publishing videotestsrc (codec vp8|h264) + Opus. */
export function startWhipClient(procs, { url, token, codec, name = `whip-client-${codec}` }) {
  const args = ["-u", url, "-V", whipVideo[codec], "-A", whipAudio, "-o"];
  if (token) args.push("-t", token);
  return procs.start(name, "whip-client", args, { env: gstEnv() });
}

/**
 * gstViewer runs gst/whep_viewer.py and resolves to its JSON result (plus exit code) when it
 * exits: it stops by itself once minFrames video frames were decoded, or after timeoutS.
 * videoCodecs ("VP8,H264" by default; VP9, H265 too) is what it offers.
 */
export async function gstViewer(procs, { url, token, minFrames = 60, minAudio = 25, timeoutS = 40, name = "gst-viewer", videoCodecs }) {
  const args = [join(interopDir, "gst", "whep_viewer.py"), "--url", url, "--min-frames", String(minFrames),
    "--min-audio", String(minAudio), "--timeout", String(timeoutS)];
  if (videoCodecs) args.push("--video-codecs", videoCodecs);
  if (token) args.push("--token", token);
  const child = procs.start(name, "/usr/bin/python3", args, { env: gstEnv(), capture: true });
  const { code, signal } = await child.exited;
  const line = child.stdoutText.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  const result = line ? JSON.parse(line) : { ok: false, error: "no result line" };
  return { ...result, exitCode: code, signal };
}

/** The Chromium flags of the team brief, with the fake camera and microphone. */
export const chromiumArgs = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
];

/**
 * launchChromium starts Debian's chromium through playwright-core (never a downloaded browser).
 * executablePath may name a wrapper that execs it (lib/netcap.mjs: in another network namespace);
 * args are more flags (such as --use-file-for-fake-video-capture=FILE.y4m).
 */
export async function launchChromium({ executablePath = env.chromium, args = [] } = {}) {
  assert(env.chromium, "chromium is not installed (command -v chromium found nothing)");
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath, args: [...chromiumArgs, ...args], headless: true, timeout: 20000 });
}

/**
 * launchFirefox starts Debian's firefox-esr headless through WebDriver BiDi with npm
 * puppeteer-core (never a downloaded browser), with fake camera and microphone, no permission
 * prompts and ICE on loopback (/work/shared/research/firefox.md). Firefox gathers no candidate in
 * a namespace without a default route, so one is added through lo with source 127.0.0.1 (the case
 * runs in its own namespace; Chromium and libnice keep using the veth's 127.0.0.1).
 */
export async function launchFirefox() {
  assert(env.firefox, "firefox-esr is not installed (command -v firefox-esr found nothing)");
  try {
    execFileSync("ip", ["route", "add", "default", "dev", "lo", "src", "127.0.0.1"], { stdio: "ignore" });
  } catch {
    // already there
  }
  const { default: puppeteer } = await import("puppeteer-core");
  return puppeteer.launch({
    browser: "firefox", executablePath: env.firefox, headless: true, timeout: 30000,
    extraPrefsFirefox: {
      "media.navigator.streams.fake": true,
      "media.navigator.permission.disabled": true,
      "media.peerconnection.ice.loopback": true,
      "media.peerconnection.ice.obfuscate_host_addresses": false,
      // No H.264 (Debian's Firefox would fetch the OpenH264 plugin at run time where it can; never
      // here): the same codecs on every machine.
      "media.gmp-gmpopenh264.enabled": false,
      "media.webrtc.hw.h264.enabled": false,
      "media.autoplay.default": 0,
      "media.autoplay.blocking_policy": 0,
      "media.autoplay.block-webaudio": false, // an AudioContext runs without a user gesture
    },
  });
}

/** logPage copies a page's console and errors into the case's log. */
export function logPage(page, label, log) {
  page.on("console", (m) => log(`[${label} console.${m.type()}] ${m.text()}`));
  page.on("pageerror", (e) => log(`[${label} pageerror] ${e.message}`));
}

/**
 * checkNotBlank loads a PNG into a blank page of the browser and measures it: it must have many
 * distinct colours and a luminance spread, so an all-black or all-grey screenshot fails.
 */
export async function checkNotBlank(browser, png) {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    const m = await page.evaluate(async (b64) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.naturalWidth;
      c.height = img.naturalHeight;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const colours = new Set();
      let sum = 0, sum2 = 0, n = 0;
      for (let i = 0; i < d.length; i += 4 * 7) {
        colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
        const y = 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
        sum += y; sum2 += y * y; n++;
      }
      const mean = sum / n;
      return { width: c.width, height: c.height, colours: colours.size, lumaStdDev: Math.sqrt(sum2 / n - mean * mean) };
    }, png.toString("base64"));
    assert(m.colours >= 50 && m.lumaStdDev >= 10, `screenshot looks blank: ${JSON.stringify(m)}`);
    return m;
  } finally {
    await ctx.close();
  }
}

/**
 * runCase runs one case: fn(ctx) gets {procs, dir, log, name}. Whatever happens every process the
 * case started is stopped by pid; the process exits 0 on success and 1 on failure, after printing
 * one line "PASS name (Ns)" or "FAIL name: reason".
 */
export async function runCase(fn) {
  const name = basename(process.argv[1]).replace(/\.mjs$/, "");
  const dir = join(env.artifacts, name);
  mkdirSync(dir, { recursive: true });
  const logFile = createWriteStream(join(dir, "case.log"));
  const log = (...a) => {
    const line = `${new Date().toISOString()} ${a.join(" ")}`;
    logFile.write(line + "\n");
    if (process.env.INTEROP_VERBOSE) console.error(line);
  };
  const procs = new Procs(dir);
  const cleanups = [];
  const started = Date.now();
  let failure = null;
  try {
    await fn({ procs, dir, log, name, defer: (f) => cleanups.push(f) });
  } catch (e) {
    failure = e instanceof Failure ? e.message : e.stack || String(e);
  }
  for (const f of cleanups.reverse()) {
    try {
      await f();
    } catch (e) {
      log(`cleanup: ${e.message}`);
    }
  }
  await procs.stopAll();
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  log(failure ? `FAIL ${failure}` : "PASS");
  await new Promise((r) => logFile.end(r));
  if (failure) {
    console.log(`FAIL ${name} (${secs}s): ${failure}`);
    console.log(`     logs: ${dir}`);
    process.exit(1);
  }
  console.log(`PASS ${name} (${secs}s)`);
  process.exit(0);
}
