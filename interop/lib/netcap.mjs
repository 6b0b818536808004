// A capped network path for one client of a case: a named network namespace joined to the case's
// own namespace by a veth pair, with a tc tbf shaper on the case's end, so what wisp (in the case's
// namespace) sends the client is capped (this kernel has tbf but no netem). A browser runs in it
// through a wrapper executable: playwright drives Chromium over a pipe, which `ip netns exec`
// passes on.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { env } from "./harness.mjs";

function run(cmd, ...args) {
  execFileSync(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
}

/**
 * cappedPath makes the namespace (a random name: namespace names are global to the machine,
 * where other cases may run) with a veth pair: hostIP (10.77.0.1) on the case's end, clientIP
 * (10.77.0.2) in the namespace. rate (a tc rate such as "600kbit") caps the case → client
 * direction; the client → case direction is not shaped. Returns { ns, hostIP, clientIP, shape,
 * chromium, close }; close() removes the namespace and the veth.
 */
export function cappedPath(rate, { log = () => {} } = {}) {
  const ns = `wispcap-${randomBytes(4).toString("hex")}`;
  const hostIf = "cap0";
  const clientIf = "cap1";
  const hostIP = "10.77.0.1";
  const clientIP = "10.77.0.2";
  run("ip", "netns", "add", ns);
  const close = () => {
    try {
      run("ip", "link", "del", hostIf);
    } catch {
      // gone with the namespace
    }
    try {
      run("ip", "netns", "del", ns);
    } catch {
      // already gone
    }
  };
  try {
    run("ip", "link", "add", hostIf, "type", "veth", "peer", "name", clientIf);
    run("ip", "link", "set", clientIf, "netns", ns);
    run("ip", "addr", "add", `${hostIP}/30`, "dev", hostIf);
    run("ip", "link", "set", hostIf, "up");
    run("ip", "-n", ns, "addr", "add", `${clientIP}/30`, "dev", clientIf);
    run("ip", "-n", ns, "link", "set", clientIf, "up");
    run("ip", "-n", ns, "link", "set", "lo", "up");
  } catch (e) {
    close();
    throw e;
  }
  /** shape sets (or, with rate "", removes) the cap on what the client is sent. */
  const shape = (r) => {
    try {
      run("tc", "qdisc", "del", "dev", hostIf, "root");
    } catch {
      // none yet
    }
    if (r) run("tc", "qdisc", "add", "dev", hostIf, "root", "tbf", "rate", r, "burst", "16kb", "latency", "300ms");
    log(`cap on ${hostIf} (→ ${ns}): ${r || "none"}`);
  };
  shape(rate);
  /** chromium writes an executable into dir that runs Debian's chromium inside the namespace. */
  const chromium = (dir) => {
    const path = join(dir, "chromium-capped.sh");
    writeFileSync(path, `#!/bin/sh\nexec ip netns exec ${ns} ${JSON.stringify(env.chromium)} "$@"\n`);
    chmodSync(path, 0o755);
    return path;
  };
  return { ns, hostIP, clientIP, shape, chromium, close };
}
