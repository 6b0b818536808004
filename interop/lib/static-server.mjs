// A tiny static HTTP server for pages that must come from another origin than wisp
// (interop/www and the whip-whep package files).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

/** serveStatic serves mounts ({"/prefix/": dir}) on 127.0.0.1:port; resolves to {origin, close}. */
export function serveStatic(port, mounts) {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    for (const [prefix, dir] of Object.entries(mounts)) {
      if (!path.startsWith(prefix)) continue;
      const rel = normalize(path.slice(prefix.length)).replace(/^(\.\.[/\\])+/, "");
      try {
        const body = await readFile(join(dir, rel));
        res.writeHead(200, { "Content-Type": types[extname(rel)] || "application/octet-stream", "Cache-Control": "no-cache" });
        return res.end(body);
      } catch {
        break;
      }
    }
    res.writeHead(404).end("not found");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve({
      origin: `http://127.0.0.1:${port}`,
      close: () => new Promise((r) => server.close(r)),
    }));
  });
}
