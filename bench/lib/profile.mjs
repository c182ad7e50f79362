// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, with frames of the minified
// dist/index.js mapped back through dist/index.js.map to their TypeScript source and name, and a
// rollup by category (wasm kernels, simdnn JS by source file, GC, the rest).
//
//   node bench/lib/profile.mjs <file.cpuprofile> [top=25]
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { basename, dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { decodeWasm, WASM_TEXT_PREFIX } from '../../scripts/wasm-inline.mjs';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64V = Object.fromEntries([...B64].map((c, i) => [c, i]));

/** Decodes a source map's mappings into per-line sorted segments [col, src, line, col, name?]. */
function decodeMap(map) {
  const lines = [];
  let src = 0, sl = 0, sc = 0, nm = 0;
  for (const line of map.mappings.split(';')) {
    const segs = [];
    let col = 0;
    if (line) for (const seg of line.split(',')) {
      const v = [];
      let shift = 0, val = 0;
      for (const ch of seg) {
        const d = B64V[ch];
        val += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          v.push(val & 1 ? -(val >>> 1) : val >>> 1);
          val = 0;
          shift = 0;
        }
      }
      col += v[0];
      if (v.length >= 4) {
        src += v[1];
        sl += v[2];
        sc += v[3];
        if (v.length >= 5) nm += v[4];
        segs.push([col, src, sl, sc, v.length >= 5 ? nm : -1]);
      }
    }
    lines.push(segs);
  }
  return lines;
}

function mapper(jsFile) {
  const mapFile = `${jsFile}.map`;
  if (!existsSync(mapFile)) return null;
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  const lines = decodeMap(map);
  return (line, col) => {
    const segs = lines[line];
    if (!segs || !segs.length) return null;
    let lo = 0, hi = segs.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (segs[mid][0] <= col) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return null;
    const s = segs[best];
    return { source: map.sources[s[1]].replace(/^(\.\.\/)+/, ''), line: s[2] + 1, name: s[4] >= 0 ? map.names[s[4]] : null };
  };
}

function leb(buf, pos) {
  let v = 0, shift = 0, b;
  do {
    b = buf[pos++];
    v += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return [v, pos];
}

/** Function body ranges and names (export names, or the name section's) of one wasm binary. */
function wasmLayout(bytes) {
  const bodies = [], names = new Map();
  let imported = 0, pos = 8, sharedMemory = false;
  const str = (p) => {
    const [len, q] = leb(bytes, p);
    return [Buffer.from(bytes.subarray(q, q + len)).toString('utf8'), q + len];
  };
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, start] = leb(bytes, pos + 1);
    const end = start + size;
    let p = start;
    if (id === 2) {
      let n;
      [n, p] = leb(bytes, p);
      for (let i = 0; i < n; i++) {
        [, p] = str(p);
        [, p] = str(p);
        const kind = bytes[p++];
        if (kind === 0) (imported++, ([, p] = leb(bytes, p)));
        else if (kind === 1) { p++; const f = bytes[p++]; [, p] = leb(bytes, p); if (f & 1) [, p] = leb(bytes, p); }
        else if (kind === 2) { const f = bytes[p++]; sharedMemory = (f & 2) !== 0; [, p] = leb(bytes, p); if (f & 1) [, p] = leb(bytes, p); }
        else if (kind === 3) p += 2;
      }
    } else if (id === 7) {
      let n;
      [n, p] = leb(bytes, p);
      for (let i = 0; i < n; i++) {
        let name, idx;
        [name, p] = str(p);
        const kind = bytes[p++];
        [idx, p] = leb(bytes, p);
        if (kind === 0 && !names.has(idx)) names.set(idx, name);
      }
    } else if (id === 10) {
      let n;
      [n, p] = leb(bytes, p);
      for (let i = 0; i < n; i++) {
        const [len, q] = leb(bytes, p);
        bodies.push({ index: imported + i, start: q, end: q + len }); // V8 reports q as the frame's column
        p = q + len;
      }
    } else if (id === 0) {
      let name;
      [name, p] = str(p);
      if (name === 'name')
        while (p < end) {
          const sub = bytes[p];
          const [len, q] = leb(bytes, p + 1);
          if (sub === 1) {
            let n, r = q;
            [n, r] = leb(bytes, r);
            for (let i = 0; i < n; i++) {
              let idx, nm;
              [idx, r] = leb(bytes, r);
              [nm, r] = str(r);
              names.set(idx, nm);
            }
          }
          p = q + len;
        }
    }
    pos = end;
  }
  return { bodies, names, sharedMemory };
}

/**
 * The wasm modules inlined in a bundle (as strings, scripts/wasm-inline.mjs): in jsFile and in the .js
 * files beside it (the chunks it imports).
 */
function inlinedWasm(jsFile) {
  if (!existsSync(jsFile)) return [];
  const dir = dirname(jsFile);
  const files = [jsFile, ...readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f)).filter((f) => f !== jsFile)];
  const found = new RegExp(`\`(${WASM_TEXT_PREFIX}[^\`]*)\``, 'g');
  return files.flatMap((f) =>
    [...readFileSync(f, 'utf8').matchAll(found)].map((m) => {
      const bytes = decodeWasm(m[1]);
      return { bytes, ...wasmLayout(bytes) };
    }),
  );
}

/**
 * Names of the kernels' internal functions (microkernels, packing), which the release builds strip:
 * finds the asconfig target whose build/ output is this binary, rebuilds it with --debug (same code,
 * plus a name section) into node_modules/.cache, and takes the names when every function body is
 * byte-identical. Cached per binary; returns null when the source has moved on since the build.
 */
function debugNames(mod) {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const hash = createHash('sha1').update(mod.bytes).digest('hex').slice(0, 12);
  const cacheDir = join(root, 'node_modules/.cache/simdnn-bench');
  const out = join(cacheDir, `kernels-${hash}.debug.wasm`);
  const bodyOf = (bytes, b) => Buffer.from(bytes.buffer, bytes.byteOffset + b.start, b.end - b.start);
  const check = (file) => {
    const bytes = new Uint8Array(readFileSync(file));
    const dbg = wasmLayout(bytes);
    const same = mod.bodies.length === dbg.bodies.length && mod.bodies.every((b, i) => bodyOf(mod.bytes, b).equals(bodyOf(bytes, dbg.bodies[i])));
    return same ? dbg.names : null;
  };
  if (existsSync(out)) return check(out);
  if (existsSync(`${out}.none`)) return null; // tried before: the source no longer builds this binary
  let targets = [];
  try {
    const cfg = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
    const shared = mod.sharedMemory;
    const size = (t) => (t.outFile && existsSync(join(root, t.outFile)) ? readFileSync(join(root, t.outFile)) : null);
    targets = Object.entries(cfg.targets ?? {})
      .filter(([, t]) => !!t.sharedMemory === shared)
      .map(([name, t]) => ({ name, entry: t.entry, file: size(t) }))
      .sort((a, b) => (a.file && Buffer.from(a.file).equals(Buffer.from(mod.bytes)) ? -1 : 0) - (b.file && Buffer.from(b.file).equals(Buffer.from(mod.bytes)) ? -1 : 0) || Math.abs((a.file?.length ?? 1e9) - mod.bytes.length) - Math.abs((b.file?.length ?? 1e9) - mod.bytes.length));
  } catch { /* no asconfig */ }
  mkdirSync(cacheDir, { recursive: true });
  for (const { name, entry } of targets.slice(0, 2)) {
    process.stderr.write(`(naming internal wasm functions: asc --target ${name} --debug)\n`);
    const tmp = `${out}.${name}.tmp`;
    const r = spawnSync(process.execPath, [join(root, 'node_modules/assemblyscript/bin/asc.js'), entry, '--target', name, '--debug', '-o', tmp], { cwd: root, stdio: 'ignore' });
    if (r.status === 0 && existsSync(tmp) && check(tmp)) {
      renameSync(tmp, out);
      return check(out);
    }
    rmSync(tmp, { force: true });
  }
  writeFileSync(`${out}.none`, '');
  return null;
}

export function summarise(file, top = 25, { bundle = fileURLToPath(new URL('../../dist/index.js', import.meta.url)), withDebugNames = true } = {}) {
  let modules = null;
  /**
   * Name of a wasm-function[i] frame: from the inlined module whose body offsets match every frame of the
   * profile from the same module instance (its url; the kernels are two modules, the core and the
   * relaxed gemm, and builds differ in layout, so this picks the one that ran).
   */
  const picked = new Map();
  const wasmName = (cf) => {
    const fn = cf.functionName;
    if (!picked.has(cf.url)) {
      modules ??= inlinedWasm(bundle);
      const frames = prof.nodes.map((n) => n.callFrame).filter((f) => f.url === cf.url && /^wasm-function\[/.test(f.functionName));
      const fits = (m) => frames.every((f) => m.bodies.find((b) => b.index === Number(/\[(\d+)\]/.exec(f.functionName)[1]))?.start === f.columnNumber);
      const mod = modules.find(fits) ?? null;
      if (mod && withDebugNames && frames.some((f) => !mod.names.has(Number(/\[(\d+)\]/.exec(f.functionName)[1])))) {
        const names = debugNames(mod);
        if (names) for (const [i, n] of names) if (!mod.names.has(i)) mod.names.set(i, `${n.replace(/^assembly\//, '')} (internal)`);
      }
      picked.set(cf.url, mod);
    }
    const mod = picked.get(cf.url);
    const i = Number(/\[(\d+)\]/.exec(fn)?.[1]);
    if (!mod) return `${fn} (dist/ was rebuilt since the run?)`;
    return mod.names.get(i) ?? `${fn} (internal)`;
  };
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i], dt = prof.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const mappers = new Map();
  const mapFor = (url) => {
    if (!mappers.has(url)) {
      let m = null;
      try {
        if (url.startsWith('file:')) m = mapper(fileURLToPath(url));
      } catch { /* no map */ }
      mappers.set(url, m);
    }
    return mappers.get(url);
  };
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const isWasm = (cf) => (cf.url || '').startsWith('wasm://') && !cf.functionName.startsWith('js-to-wasm');
  const frameName = (cf) => (/^wasm-function\[/.test(cf.functionName) ? wasmName(cf) : cf.functionName);
  // Wasm time by the exported kernel JS called (its internal helpers — packing, microkernels — included).
  const entries = new Map();
  for (const [id, us] of self) {
    let n = byId.get(id);
    if (!isWasm(n.callFrame)) continue;
    for (let p = parent.get(n.id); p !== undefined && isWasm(byId.get(p).callFrame); p = parent.get(p)) n = byId.get(p);
    const k = frameName(n.callFrame);
    entries.set(k, (entries.get(k) ?? 0) + us);
  }
  const rows = new Map(), cats = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    let key, cat;
    const url = cf.url || '';
    if (url.startsWith('wasm://') || /^wasm-function|^\$?f32_|^\$/.test(cf.functionName) && !url) {
      key = `[wasm] ${frameName(cf)}`;
      cat = 'wasm kernels';
    } else if (url.includes('/dist/index.js') || url.includes('/dist/worker.js')) {
      const m = mapFor(url)?.(cf.lineNumber, cf.columnNumber);
      key = m ? `${m.name ?? cf.functionName ?? '(anonymous)'}  ${m.source}:${m.line}` : `${cf.functionName || '(anonymous)'}  ${basename(url)}:${cf.lineNumber + 1}:${cf.columnNumber + 1}`;
      cat = m ? `simdnn JS: ${m.source}` : 'simdnn JS (unmapped)';
    } else if (cf.functionName === '(garbage collector)') {
      key = cat = 'GC';
    } else if (cf.functionName.startsWith('(')) {
      key = cat = cf.functionName;
    } else {
      key = `${cf.functionName || '(anonymous)'}  ${url ? basename(url) : ''}${url ? `:${cf.lineNumber + 1}` : ''}`;
      cat = url.startsWith('node:') || !url ? 'node internals / builtins' : `other JS: ${basename(url)}`;
    }
    rows.set(key, (rows.get(key) ?? 0) + us);
    cats.set(cat, (cats.get(cat) ?? 0) + us);
  }
  const fmt = (m) => [...m].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ name: k, ms: us / 1000, pct: (100 * us) / total }));
  return { totalMs: total / 1000, functions: fmt(rows).slice(0, top), categories: fmt(cats), kernels: fmt(entries) };
}

export function printSummary(s, write = console.log) {
  write(`profile: ${s.totalMs.toFixed(0)} ms of samples`);
  write('\n  self time by category');
  for (const r of s.categories) if (r.pct >= 0.3) write(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`);
  write('\n  wasm time by exported kernel (internal helpers included)');
  for (const r of s.kernels) if (r.pct >= 0.2) write(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`);
  write('\n  top functions by self time');
  for (const r of s.functions) write(`  ${r.pct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(7)} ms  ${r.name}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printSummary(summarise(process.argv[2], Number(process.argv[3] ?? 25)));
}
