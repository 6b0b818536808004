// Built-in HTTPS makes the camera work on a real name (issue 14, Done-when 5; COMMON-31).
// wisp serves -tls-cert/-tls-key for live.wisp.test, signed by a CA made here and trusted by
// Chromium through an NSS database in its $HOME (certutil, libnss3-tools) — no
// --ignore-certificate-errors, no --unsafely-treat-insecure-origin-as-secure. Chromium maps the
// name to 127.0.0.1 (--host-resolver-rules), opens https://live.wisp.test:8443/publish/x, which
// publishes its fake camera, and a second context decodes it on /watch/x. The negative control:
// the same page over http://live.wisp.test:8080 (a plain wisp) is not a secure context and gets
// no camera (navigator.mediaDevices is undefined).
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { assert, chromiumArgs, env, runCase, startWisp, waitFor } from "../lib/harness.mjs";
import { openPublisher, openWatcher, waitDecoded } from "../lib/browser.mjs";

const name = "live.wisp.test";

/** makeCerts writes a CA and a certificate for name signed by it (openssl), P-256. */
function makeCerts(dir) {
  const run = (...args) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  run("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=wisp interop CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  run("req", ...ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", `/CN=${name}`);
  writeFileSync(join(dir, "leaf.ext"), `subjectAltName=DNS:${name}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`);
  run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "leaf.pem",
    "-days", "2", "-extfile", "leaf.ext");
  return { ca: join(dir, "ca.pem"), cert: join(dir, "leaf.pem"), key: join(dir, "leaf.key") };
}

/** trustInNSS makes home/.pki/nssdb trust ca for TLS servers: Chromium on Linux reads it. */
function trustInNSS(home, ca) {
  const db = join(home, ".pki", "nssdb");
  mkdirSync(db, { recursive: true });
  execFileSync("certutil", ["-d", `sql:${db}`, "-N", "--empty-password"]);
  execFileSync("certutil", ["-d", `sql:${db}`, "-A", "-t", "C,,", "-n", "wisp interop CA", "-i", ca]);
}

/** httpsStatus GETs url (name → 127.0.0.1) trusting only ca, and resolves to the status. */
function httpsStatus(url, ca) {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(ca), lookup: (_h, o, cb) => (o && o.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)), timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", reject);
    req.end();
  });
}

runCase(async ({ procs, log, dir, defer }) => {
  const certs = makeCerts(dir);
  const home = join(dir, "home");
  trustInNSS(home, certs.ca);

  const wisp = procs.start("wisp-https", env.wisp, ["-http", "127.0.0.1:8443", "-udp-port", "8189", "-ice-host", "127.0.0.1",
    "-ice-tcp=false", "-metrics", "off", "-log-level", "debug", "-tls-cert", certs.cert, "-tls-key", certs.key]);
  const base = `https://${name}:8443`;
  await waitFor("wisp to answer GET /healthz over https", async () => {
    if (wisp.exitCode !== null) throw new Error(`wisp exited with ${wisp.exitCode}; see wisp-https.log`);
    return (await httpsStatus(`${base}/healthz`, certs.ca)) === 200;
  }, { timeoutMs: 10000, intervalMs: 100 });
  const plain = await startWisp(procs, { name: "wisp-http", http: "127.0.0.1:8080", udpPort: 8190 });
  log(`https ${base}, plain ${plain}`);

  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: env.chromium, headless: true, timeout: 20000,
    args: [...chromiumArgs, `--host-resolver-rules=MAP ${name} 127.0.0.1`],
    env: { ...process.env, HOME: home },
  });
  defer(() => browser.close());
  log(`chromium ${browser.version()}`);

  const pub = await openPublisher(browser, base, "x", null, log);
  const secure = await pub.page.evaluate(() => ({ secure: window.isSecureContext, origin: location.origin, camera: !!navigator.mediaDevices }));
  log(`publish page: ${JSON.stringify(secure)}`);
  assert(secure.secure && secure.camera && secure.origin === base, `publish page over https: ${JSON.stringify(secure)}`);
  const watch = await openWatcher(browser, base, "x", log);
  const s = await waitDecoded(watch.page, 30);
  log(`watch stats: ${JSON.stringify(s)}`);
  assert(s.location && s.location.startsWith(`${base}/whep/x/`), `watch session URL ${s.location}, want an absolute https Location`);

  // Negative control: the same page on the same name over plain http has no camera.
  const ctx = await browser.newContext({ permissions: ["camera", "microphone"] });
  const page = await ctx.newPage();
  await page.goto(`http://${name}:8080/publish/x`);
  const insecure = await page.evaluate(() => ({ secure: window.isSecureContext, camera: !!navigator.mediaDevices }));
  log(`publish page over http: ${JSON.stringify(insecure)}`);
  assert(!insecure.secure && !insecure.camera, `publish page over http://${name} is a secure context or has a camera: ${JSON.stringify(insecure)}`);
});
