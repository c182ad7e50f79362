// Reading a large CSV: data.readCsv and `simdnn predict` on a generated 1,000,000 × 20 table
// (19 numeric features, an integer class label; about 144 MB), time and peak RSS.
//
//   npm run bench:csv                  1e6 rows, 5 runs of each (about 3 min on 2 idle cores)
//   npm run bench:csv -- --rows=200000 --runs=3
//   npm run bench:csv -- --keep        leave the temp folder (its path is printed)
//
// Each run is a fresh child process (`node bench/csv.mjs --child ...`), so that its
// process.resourceUsage().maxRSS is the peak of that one read or prediction, import and init
// included (bare Node is printed beside it). Times are wall clock from before the call to after it,
// without the import and init, and the process's CPU time (user + system, GC threads included) over
// the same span, which a busy shared machine inflates less. The figures are medians over the runs.
// Build first: npm run build.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (f) => pathToFileURL(join(root, 'dist', f)).href;
const argv = process.argv.slice(2);
const opt = (name, def) => {
  const a = argv.find((s) => s.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : def;
};

async function child(what, args) {
  const t0 = performance.now();
  let ms, rows, cpu0;
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  if (what === 'node') {
    ms = 0;
    rows = 0;
  } else if (what === 'read') {
    const sd = await import(dist('index.js'));
    await sd.init({ backend: 'wasm' });
    const t = performance.now();
    cpu0 = cpuMs();
    const ds = await sd.data.readCsv(args[0], { from: 'path', target: 'label' });
    ms = performance.now() - t;
    rows = ds.x.shape[0];
    sd.dispose([ds.x, ds.y]);
  } else if (what === 'predict') {
    const { main } = await import(dist('cli.js'));
    const sd = await import(dist('index.js'));
    let out = '', err = '';
    const io = { stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false, columns: 100, cwd: root };
    const t = performance.now();
    cpu0 = cpuMs();
    const code = await main(['predict', args[0], args[1], '--out', args[2], '--backend', 'wasm'], io);
    ms = performance.now() - t;
    if (code !== 0) throw new Error(`simdnn predict failed (${code}): ${err}`);
    rows = Number((/^wrote ([\d,]+)/m.exec(out)?.[1] ?? '0').replace(/,/g, ''));
    sd.shutdown();
  } else throw new Error(`unknown child ${what}`);
  const cpu = cpu0 === undefined ? 0 : cpuMs() - cpu0;
  process.stdout.write(JSON.stringify({ ms, cpu, rows, maxRssMiB: process.resourceUsage().maxRSS / 1024, totalMs: performance.now() - t0 }) + '\n');
}

function run(what, ...args) {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', what, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop());
}

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function parent() {
  const rows = opt('rows', 1_000_000), runs = opt('runs', 5);
  const dir = mkdtempSync(join(tmpdir(), 'simdnn-bench-csv-'));
  try {
    const file = join(dir, 'big.csv');
    const t = performance.now();
    generate(file, rows);
    const size = statSync(file).size;
    console.log(`${file}: ${rows.toLocaleString('en')} rows × 20 columns, ${(size / 2 ** 20).toFixed(1)} MiB (written in ${((performance.now() - t) / 1000).toFixed(1)} s)`);

    // A model to predict with: 19 → 32 → 10, trained briefly on the file's first rows.
    const model = join(dir, 'model.safetensors');
    const small = join(dir, 'small.csv');
    generate(small, 5000);
    const sd = await import(dist('index.js'));
    await sd.init({ backend: 'wasm' });
    const ds = await sd.data.readCsv(small, { from: 'path', target: 'label' });
    const m = sd.mlp([ds.columns.length, 32, ds.classes.length], { seed: 0 });
    const scaler = sd.data.standardize(ds.x);
    await m.fit(scaler.transform(ds.x), ds.y, { loss: 'softmaxCrossEntropy', epochs: 1 });
    m.preprocessing = { scaler, classes: ds.classes, columns: ds.columns, target: ds.target, task: ds.task, encoding: ds.encoding };
    await sd.saveFile(m, model);
    sd.shutdown();

    const base = [];
    for (let i = 0; i < 3; i++) base.push(run('node').maxRssMiB);
    console.log(`bare node: peak RSS ${median(base).toFixed(0)} MiB (median of 3)`);
    for (const [label, what, args] of [
      ['data.readCsv(path)', 'read', [file]],
      ['simdnn predict --out', 'predict', [model, file, join(dir, 'pred.csv')]],
    ]) {
      const ms = [], cpu = [], rss = [];
      for (let i = 0; i < runs; i++) {
        const r = run(what, ...args);
        ms.push(r.ms);
        cpu.push(r.cpu);
        rss.push(r.maxRssMiB);
      }
      const s = (v) => (v / 1000).toFixed(2);
      console.log(
        `${label.padEnd(22)} ${s(median(ms))} s (CPU ${s(median(cpu))} s)  peak RSS ${median(rss).toFixed(0)} MiB  ` +
          `(median of ${runs}; wall ${ms.map(s).join(', ')} s; CPU ${cpu.map(s).join(', ')} s; RSS ${rss.map((v) => v.toFixed(0)).join(', ')} MiB)`,
      );
    }
  } finally {
    if (argv.includes('--keep')) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `rows` rows of f0..f18 (4 decimals in [-1, 1]) and label (0..9) from a fixed-seed generator. */
function generate(file, rows) {
  let s = 0x9e3779b9;
  const next = () => {
    // xorshift32: deterministic and fast; the values only need to look like data.
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const fd = openSync(file, 'w');
  try {
    const header = [...Array.from({ length: 19 }, (_, j) => `f${j}`), 'label'].join(',') + '\n';
    writeSync(fd, header);
    let buf = '';
    for (let i = 0; i < rows; i++) {
      let line = '';
      let sum = 0;
      for (let j = 0; j < 19; j++) {
        const v = next() * 2 - 1;
        sum += j < 4 ? v : 0;
        line += v.toFixed(4) + ',';
      }
      // A label that depends on the first features, so a model can learn something.
      line += Math.min(9, Math.floor((sum + 4) * 1.25)) + '\n';
      buf += line;
      if (buf.length > 1 << 20) {
        writeSync(fd, buf);
        buf = '';
      }
    }
    writeSync(fd, buf);
  } finally {
    closeSync(fd);
  }
}

if (argv[0] === '--child') await child(argv[1], argv.slice(2));
else await parent();
