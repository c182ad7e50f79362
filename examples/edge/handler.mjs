// An inference endpoint in the standard `fetch(request) → Response` shape, which Deno.serve, Bun,
// Cloudflare Workers, Vercel/Netlify edge functions and service workers all call (Node through the
// small adapter in node.mjs). It loads a saved simdnn model once, lazily, shares it across requests,
// and answers:
//   GET  /health                       → {"status": "ok", "model": {...}, "backend": ...}
//   POST /predict {"rows": [[...], ...]}            rows of the model's input features, in order
//   POST /predict {"features": {"p0": 0, ...}}      one row by column name (or an array of them);
//                                                  raw CSV columns are encoded as in training
//   → {"predictions": [...], "classes": [...], "probabilities": [[...], ...]}   (classification)
//   → {"predictions": [...]}                                                    (regression)
// Bad requests get a 4xx status and {"error": "what is wrong and what to send"}; a model whose output is
// not a finite number (NaN or infinite: its weights or the input overflow float32) gets a 500 with the
// reason, never a 200 with null predictions.
//
// Usage:
//   import { createHandler } from './handler.mjs';
//   export default createHandler({ modelBytes, module, gemmModule });   // precompiled WebAssembly.Modules
// On platforms that forbid compiling wasm from bytes at run time (Cloudflare Workers), import the
// kernels as modules (`import module from 'simdnn/kernels.wasm'`, `import gemmModule from
// 'simdnn/kernels-relaxed-gemm.wasm'`) and pass them.
import * as sd from 'simdnn';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
export const DEFAULT_MAX_ROWS = 10_000;
// The largest float32: a JSON number beyond it is finite here but becomes Infinity in the model's input.
const F32_MAX = 3.4028234663852886e38;

// ---- the runtime: one per process, shared by every handler ----
let runtime = null; // Promise<{info, precompiled}>

/**
 * Starts simdnn once (single-thread wasm: small requests gain nothing from threads, and edge
 * platforms have none). A host that already called init() keeps its runtime (and its models).
 */
export function initRuntime({ module, gemmModule, backend = 'wasm' } = {}) {
  runtime ??= (async () => {
    try {
      return { info: sd.info(), precompiled: false };
    } catch { /* not initialised yet */ }
    for (const [name, m] of [['module', module], ['gemmModule', gemmModule]])
      if (m !== undefined && !(m instanceof WebAssembly.Module))
        throw new TypeError(`createHandler: \`${name}\` must be a WebAssembly.Module (compiled from simdnn/${name === 'module' ? 'kernels.wasm' : 'kernels-relaxed-gemm.wasm'}).`);
    let info;
    try {
      info = await sd.init({ backend, module, gemmModule });
    } catch (e) {
      if (module || backend !== 'wasm') throw e;
      info = await sd.init({ backend: 'auto' }); // no SIMD here: the js backend still answers
    }
    return { info, precompiled: !!module };
  })();
  runtime.catch(() => { runtime = null; }); // a failed start is retried on the next request
  return runtime;
}

// ---- responses ----
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, OPTIONS',
  'Access-Control-Allow-Headers': 'Content-Type',
  'Access-Control-Max-Age': '86400',
};

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...CORS, ...headers },
  });
}

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

const describeValue = (v) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v) : typeof v === 'object' ? 'an object' : String(v));

/** The body as text, refusing more than `limit` bytes whether or not Content-Length says so. */
async function readBody(request, limit) {
  const tooLarge = (n) => new HttpError(413, `the request body is ${n} bytes; the limit is ${limit} bytes. Send fewer rows per request.`);
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > limit) throw tooLarge(Number(declared));
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge(`more than ${limit}`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { bytes.set(c, at); at += c.byteLength; }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, 'the request body is not valid UTF-8 text; send JSON.');
  }
}

/** x [n, inputs] as a flat Float32Array from {"rows": [[...], ...]}, checking every value. */
function rowsToX(rows, model, maxRows) {
  const f = model.inputSize;
  if (!Array.isArray(rows)) throw new HttpError(400, `"rows" must be an array of rows, each an array of ${f} numbers; got ${describeValue(rows)}.`);
  if (rows.length === 0) throw new HttpError(400, '"rows" is empty; send at least one row.');
  if (rows.length > maxRows) throw new HttpError(413, `"rows" has ${rows.length} rows; the limit is ${maxRows} per request.`);
  const x = new Float32Array(rows.length * f);
  rows.forEach((row, i) => {
    if (!Array.isArray(row)) throw new HttpError(400, `rows[${i}] must be an array of ${f} numbers, got ${describeValue(row)}.`);
    if (row.length !== f) throw new HttpError(400, `rows[${i}] has ${row.length} values, but the model takes ${f} features per row${columnHint(model)}.`);
    row.forEach((v, j) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        const name = model.preprocessing.columns?.[j];
        throw new HttpError(400, `rows[${i}][${j}]${name ? ` (${name})` : ''} is ${describeValue(v)}, not a finite number.`);
      }
      if (Math.abs(v) > F32_MAX) {
        const name = model.preprocessing.columns?.[j];
        throw new HttpError(400, `rows[${i}][${j}]${name ? ` (${name})` : ''} is ${v}, beyond the float32 range the model computes in (±3.4e38).`);
      }
      x[i * f + j] = v;
    });
  });
  return { x, n: rows.length };
}

function columnHint(model) {
  const cols = model.preprocessing.columns;
  if (!cols?.length) return '';
  return ` (${cols.length > 8 ? `${cols.slice(0, 4).join(', ')}, …, ${cols.slice(-2).join(', ')}` : cols.join(', ')})`;
}

/** x from {"features": {...}} or {"features": [{...}, ...]}: by column name, encoded as in training. */
function featuresToX(features, model, maxRows) {
  const list = Array.isArray(features) ? features : [features];
  if (list.length === 0) throw new HttpError(400, '"features" is an empty array; send at least one object of column values.');
  if (list.length > maxRows) throw new HttpError(413, `"features" has ${list.length} rows; the limit is ${maxRows} per request.`);
  list.forEach((o, i) => {
    if (!o || typeof o !== 'object' || Array.isArray(o))
      throw new HttpError(400, `"features"${Array.isArray(features) ? `[${i}]` : ''} must be an object of column values such as {"${model.preprocessing.columns?.[0] ?? 'x0'}": 1.5, ...}, got ${describeValue(o)}.`);
  });
  const pre = model.preprocessing;
  if (pre.encoding) {
    // The CSV encoding of the training data: raw columns (categories too) become the model's inputs.
    let t;
    try {
      t = sd.data.encodeRows(pre.encoding, list);
    } catch (e) {
      throw new HttpError(400, String(e.message).replace(/^encodeRows: /, '').replace(/\brow (\d+)\b/g, (_, r) => `"features"${Array.isArray(features) ? `[${r}]` : ''}`));
    }
    try {
      return { x: t.dataSync(), n: list.length };
    } finally {
      t.dispose();
    }
  }
  const cols = pre.columns;
  if (!cols?.length) throw new HttpError(400, 'this model was saved without column names, so "features" by name cannot be matched; send "rows" instead.');
  const f = model.inputSize;
  const x = new Float32Array(list.length * f);
  list.forEach((o, i) => {
    cols.forEach((c, j) => {
      if (!(c in o)) throw new HttpError(400, `"features" lacks ${JSON.stringify(c)}; the model needs ${cols.join(', ')}.`);
      const v = typeof o[c] === 'string' && o[c].trim() !== '' ? Number(o[c]) : o[c];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new HttpError(400, `"features".${c} is ${describeValue(o[c])}, not a finite number.`);
      if (Math.abs(v) > F32_MAX) throw new HttpError(400, `"features".${c} is ${v}, beyond the float32 range the model computes in (±3.4e38).`);
      x[i * f + j] = v;
    });
  });
  return { x, n: list.length };
}

/** What the model says about x: predictions, and class probabilities for classifiers. */
function infer(model, x, n) {
  const pre = model.preprocessing;
  const out = model.outputSize;
  const classify = pre.task === 'classification' || (pre.task == null && Array.isArray(pre.classes));
  const last = model.layers[model.layers.length - 1].config();
  const lastAct = last.type === 'activation' ? last.activation : last.type === 'linear' ? last.activation : null;
  return sd.tidy(() => {
    const y = model.predict(sd.tensor(x, [n, model.inputSize]));
    // JSON has no NaN or Infinity (they would be sent as null), and no class follows from them.
    const yv = y.dataSync();
    const bad = yv.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new HttpError(500, `the model's output for row ${Math.floor(bad / out)} of the request is ${yv[bad]}, not a finite number, so there is no prediction to give: its weights or this input overflow float32. Check the model (retrain or reload it) and the scale of the input.`);
    }
    if (!classify) {
      const v = Array.from(yv);
      return { predictions: out === 1 ? v : Array.from({ length: n }, (_, i) => v.slice(i * out, (i + 1) * out)) };
    }
    let probs;
    if (out === 1) {
      const p = (lastAct === 'sigmoid' ? y : sd.sigmoid(y)).dataSync();
      probs = Array.from(p, (v) => [1 - v, v]);
    } else {
      const p = (lastAct === 'softmax' ? y : sd.softmax(y, -1)).dataSync();
      probs = Array.from({ length: n }, (_, i) => Array.from(p.subarray(i * out, (i + 1) * out)));
    }
    const k = probs[0].length;
    const classes = Array.isArray(pre.classes) && pre.classes.length === k ? pre.classes : Array.from({ length: k }, (_, i) => String(i));
    const predictions = probs.map((row) => classes[row.indexOf(Math.max(...row))]);
    return { predictions, classes, probabilities: probs };
  });
}

/**
 * A handler `{fetch(request): Promise<Response>}`.
 * Options (one model source):
 *   model       a model already loaded in this process (from simdnn's load/loadBytes/mlp)
 *   modelBytes  a saved model file's bytes (Uint8Array, Node Buffer, DataView or ArrayBuffer), or a
 *               function returning them (called once, on the first request that needs the model)
 *   module      simdnn's kernels as a precompiled WebAssembly.Module (simdnn/kernels.wasm), passed to init({module})
 *   gemmModule  the relaxed-SIMD gemm precompiled (simdnn/kernels-relaxed-gemm.wasm), passed to init({gemmModule})
 *   maxBodyBytes (default 1 MiB), maxRows (default 10,000)
 */
export function createHandler(options = {}) {
  const { model: given, modelBytes, module, gemmModule, maxBodyBytes = DEFAULT_MAX_BODY_BYTES, maxRows = DEFAULT_MAX_ROWS } = options;
  if (!given && modelBytes === undefined) throw new TypeError('createHandler: pass {model} (a loaded model) or {modelBytes} (a saved model file\'s bytes, or a function that returns them).');
  let loading = null;
  const getModel = () => {
    loading ??= (async () => {
      const { info, precompiled } = await initRuntime({ module, gemmModule });
      if (given) return { model: given, info, precompiled };
      const bytes = typeof modelBytes === 'function' ? await modelBytes() : modelBytes;
      return { model: sd.loadBytes(bytes), info, precompiled };
    })();
    loading.catch(() => { loading = null; });
    return loading;
  };

  async function health() {
    let m;
    try {
      m = await getModel();
    } catch (e) {
      return json(503, { status: 'error', error: `the model could not be loaded: ${e.message}` });
    }
    const pre = m.model.preprocessing;
    return json(200, {
      status: 'ok',
      model: { inputs: m.model.inputSize, outputs: m.model.outputSize, task: pre.task ?? null, classes: pre.classes ?? null, columns: pre.columns ?? null, target: pre.target ?? null },
      backend: m.info.backend, binary: m.info.binary, module: m.precompiled ? 'precompiled' : 'compiled by simdnn',
      limits: { maxBodyBytes, maxRows },
    });
  }

  async function predict(request) {
    const text = await readBody(request, maxBodyBytes);
    if (text.trim() === '') throw new HttpError(400, 'the request body is empty; send JSON such as {"rows": [[...features...]]} or {"features": {"name": value, ...}}.');
    let body;
    try {
      body = JSON.parse(text);
    } catch (e) {
      throw new HttpError(400, `the request body is not valid JSON (${e.message}); send {"rows": [[...features...]]} or {"features": {...}}.`);
    }
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new HttpError(400, `the JSON body must be an object with "rows" or "features", got ${describeValue(body)}.`);
    const hasRows = 'rows' in body, hasFeatures = 'features' in body;
    if (hasRows === hasFeatures)
      throw new HttpError(400, hasRows ? 'send "rows" or "features", not both.' : `the JSON body needs "rows" (arrays of numbers) or "features" (values by column name); it has ${Object.keys(body).map((k) => JSON.stringify(k)).join(', ') || 'no keys'}.`);
    let m;
    try {
      m = await getModel();
    } catch (e) {
      throw new HttpError(503, `the model could not be loaded: ${e.message}`);
    }
    const { x, n } = hasRows ? rowsToX(body.rows, m.model, maxRows) : featuresToX(body.features, m.model, maxRows);
    return json(200, infer(m.model, x, n));
  }

  async function handle(request) {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = request.method.toUpperCase();
    if (path !== '/predict' && path !== '/health')
      throw new HttpError(404, `there is nothing at ${method} ${url.pathname}; use POST /predict or GET /health.`);
    if (method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS });
    if (path === '/health') {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not allowed on /health; use GET.`, { Allow: 'GET, HEAD, OPTIONS' });
      const res = await health();
      return method === 'HEAD' ? new Response(null, { status: res.status, headers: res.headers }) : res;
    }
    if (method !== 'POST') throw new HttpError(405, `${method} is not allowed on /predict; use POST with a JSON body.`, { Allow: 'POST, OPTIONS' });
    return predict(request);
  }

  return {
    async fetch(request) {
      try {
        return await handle(request);
      } catch (e) {
        if (e instanceof HttpError) return json(e.status, { error: e.message }, e.headers);
        console.error('predict handler:', e);
        return json(500, { error: `internal error: ${e?.message ?? e}` });
      }
    },
  };
}

// The default export serves ./model.safetensors next to this file (train it with train.mjs). Where
// files cannot be read at run time, build your own: createHandler({modelBytes, module}).
const modelFile = new URL('./model.safetensors', import.meta.url);
export default createHandler({
  modelBytes: () => (modelFile.protocol === 'file:' ? sd.readFileBytes(decodeURIComponent(modelFile.pathname)) : sd.fetchBytes(modelFile)),
});
