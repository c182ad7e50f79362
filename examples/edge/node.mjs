// The edge handler under Node: a tiny adapter from node:http to fetch(Request) → Response.
//   node examples/edge/node.mjs [--port 8787] [--model PATH] [--precompiled]
//   curl -s localhost:8787/predict -d '{"rows": [[0,0,5,13,9,1,0,0, ...64 values...]]}'
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, parseArgs, prepare } from './serve-common.mjs';

/** A web Request for a Node request. The body streams; cancelling it only pauses the socket. */
export function toRequest(req, origin) {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const init = { method: req.method, headers };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    let open = true; // false once the handler has cancelled the body or it has ended
    init.body = new ReadableStream({
      start(controller) {
        req.on('data', (chunk) => {
          if (!open) return;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          if (controller.desiredSize <= 0) req.pause();
        });
        req.on('end', () => { if (open) { open = false; controller.close(); } });
        req.on('error', (e) => { if (open) { open = false; controller.error(e); } });
      },
      pull() { req.resume(); },
      cancel() { open = false; req.pause(); },
    }, { highWaterMark: 4 });
    init.duplex = 'half';
  }
  return new Request(new URL(req.url, origin), init);
}

/** Writes a web Response to a Node response. */
export async function sendResponse(res, response, req) {
  const headers = {};
  response.headers.forEach((v, k) => { headers[k] = v; });
  // A body left unread (a refused upload) means this connection can't be reused.
  if (req && !req.complete) headers.connection = 'close';
  if (response.statusText) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers); // Node supplies the standard reason phrase
  if (response.body && req?.method !== 'HEAD') for await (const chunk of response.body) res.write(chunk);
  if (!req || req.complete) { res.end(); return; }
  // A refused upload: the client may still be sending. Ending the response now would close the socket
  // under it (its next write fails with EPIPE and the answer can be lost), so read the rest of the
  // body and throw it away first; a client that sends more than 16 MiB or takes over 5 s is cut off.
  let discarded = 0;
  let ended = false;
  const finish = () => { if (!ended) { ended = true; clearTimeout(timer); res.end(); } };
  const cut = () => { finish(); req.destroy(); };
  const timer = setTimeout(cut, 5000);
  timer.unref();
  req.on('data', (c) => { if ((discarded += c.length) > 16 * 1024 * 1024) cut(); });
  req.on('end', finish);
  req.on('close', finish);
  req.resume();
}

/** Serves a {fetch} handler on node:http; resolves {server, url}. */
export function serve(handler, { port = 8787, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    try {
      const origin = `http://${req.headers.host ?? `${host}:${port}`}`;
      await sendResponse(res, await handler.fetch(toRequest(req, origin)), req);
    } catch (e) {
      console.error('node adapter:', e);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal error' }));
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const a = server.address();
      ok({ server, url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
  if (opts.help) {
    console.log(`usage: node examples/edge/node.mjs [options]\n${USAGE}`);
    process.exit(0);
  }
  try {
    const handler = await prepare(opts);
    const { url } = await serve(handler, opts);
    console.log(`listening on ${url} (POST /predict, GET /health)`);
  } catch (e) {
    console.error(`could not start: ${e.message}`);
    process.exit(1);
  }
}
