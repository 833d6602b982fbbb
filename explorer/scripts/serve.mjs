// Development server: serves dist/ at /explorer/ the way the L2 node does (and
// config.json with the L1 URL), and passes every other request, WebSocket
// upgrades included, to the L2 node. So a build can be tried before a node that
// embeds it exists:
//
//   node scripts/serve.mjs [port] [l2Url] [l1Url]
//   (defaults: 28080 http://127.0.0.1:9090 http://127.0.0.1:8545)
import { readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import { connect } from "node:net";
import { fileURLToPath } from "node:url";

const [port = "28080", l2Url = "http://127.0.0.1:9090", l1Url = "http://127.0.0.1:8545"] = process.argv.slice(2);
const l2 = new URL(l2Url);
const dist = fileURLToPath(new URL("../dist/", import.meta.url));
const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript", css: "text/css" };

const server = createServer((req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/explorer/config.json") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ l1Url }));
    return;
  }
  if (path.startsWith("/explorer/")) {
    const file = path === "/explorer/" ? "index.html" : path.slice("/explorer/".length);
    if (!/^(index\.html|app\.js|app\.css)$/.test(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[file.split(".").pop()] }).end(readFileSync(dist + file));
    return;
  }
  const upstream = request({ host: l2.hostname, port: l2.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", () => res.writeHead(502).end());
  req.pipe(upstream);
});

// A WebSocket upgrade: replay the request head to the L2 and splice the sockets.
server.on("upgrade", (req, socket, head) => {
  const upstream = connect(Number(l2.port), l2.hostname, () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    upstream.write(head);
    upstream.pipe(socket).pipe(upstream);
  });
  upstream.on("error", () => socket.destroy());
  socket.on("error", () => upstream.destroy());
});

server.listen(Number(port), "127.0.0.1", () => console.log(`explorer at http://127.0.0.1:${port}/explorer/ (L2 ${l2Url}, L1 ${l1Url})`));
