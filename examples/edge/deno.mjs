// The edge handler under Deno.serve.
//   npx deno run --allow-net --allow-read examples/edge/deno.mjs [--port 8787] [--model PATH] [--wasm PATH]
// (add --allow-write to keep a model trained on first run)
import { USAGE, parseArgs, prepare } from './serve-common.mjs';

let opts;
try {
  opts = parseArgs(Deno.args);
} catch (e) {
  console.error(e.message);
  Deno.exit(2);
}
if (opts.help) {
  console.log(`usage: deno run --allow-net --allow-read examples/edge/deno.mjs [options]\n${USAGE}`);
  Deno.exit(0);
}
try {
  const handler = await prepare(opts);
  Deno.serve({
    port: opts.port,
    hostname: opts.host,
    onListen: ({ hostname, port }) => console.log(`listening on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port} (POST /predict, GET /health)`),
  }, handler.fetch);
} catch (e) {
  console.error(`could not start: ${e.message}`);
  Deno.exit(1);
}
