// Batch-1 predict while many tensors are alive: what the allocator costs per call once it holds
// 10^5 blocks. MLP 784-512-256-10 (relu), one row, `predict` then `dataSync` and dispose, as a
// serving loop does.
//
//   npm run build && node bench/alloc.mjs
//   node bench/alloc.mjs --backend=wasm-threads --live=100000 --calls=500
//   node bench/alloc.mjs --dist=/path/to/other/dist/index.js   (another build, e.g. before a change)
//
// Rows, in this order on one model: no other tensors; `live` small tensors (4 floats) allocated back to
// back; `live` small tensors with a freed one between each two, so the allocator also holds `live`
// holes; everything disposed again. Each row: `calls`/2 warm-up calls, then the median over 7 runs of
// `calls` calls of the µs per call (wall and process CPU time; on a busy machine the CPU figure is the
// steadier one). Runs are long on purpose: a cost that builds up over thousands of calls and then drops
// (a hash table's deleted entries until it is rebuilt) shows in the median only when a run spans it.
// Prints figures only; nothing is asserted.
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { clock, median } from './lib/timing.mjs';

const arg = (name, dflt) => process.argv.slice(2).find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const backend = arg('backend', 'wasm');
const live = Number(arg('live', 200_000));
const calls = Number(arg('calls', 1500));
const dist = arg('dist', new URL('../dist/index.js', import.meta.url).pathname);

const s = await import(pathToFileURL(resolve(dist)).href);
const info = await s.init(backend === 'wasm-threads' ? { backend, threads: Number(arg('threads', 2)) } : { backend });
if (info.backend !== backend) throw new Error(`asked for ${backend}, got ${info.backend}`);
const model = s.mlp([784, 512, 256, 10], { seed: 0 });
const row = new Float32Array(784).map((_, i) => ((i * 37) % 256) / 255);
const predict = () => {
  const out = model.predict(row);
  out.dataSync();
  out.dispose();
};

function measure(label) {
  for (let i = 0; i < calls / 2; i++) predict();
  const wall = [], cpu = [];
  for (let run = 0; run < 7; run++) {
    const a = clock();
    for (let i = 0; i < calls; i++) predict();
    const b = clock();
    wall.push(((b.wall - a.wall) / calls) * 1000);
    cpu.push(((b.cpu - a.cpu) / calls) * 1000);
  }
  const m = s.memory();
  console.log(
    `${label.padEnd(34)} ${median(wall).toFixed(1).padStart(8)} µs ${median(cpu).toFixed(1).padStart(8)} µs cpu` +
      `   ${String(m.tensors).padStart(7)} tensors, ${(m.backend.reservedBytes / 2 ** 20).toFixed(1)} MiB reserved`,
  );
}

console.log(`simdnn ${info.backend}${info.binary ? ` (${info.binary} kernels)` : ''}, ${dist}`);
console.log(`node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at start`);
console.log(`${'predict, 1 row'.padEnd(34)} ${'median'.padStart(11)} ${'median'.padStart(11)}`);
measure('no other tensors');
let kept = [];
for (let i = 0; i < live; i++) kept.push(s.tensor(new Float32Array(4), [4]));
measure(`${live} live`);
for (const t of kept) t.dispose();
// As many again, every other one disposed: `live` tensors with a hole after each.
const made = [];
for (let i = 0; i < 2 * live; i++) made.push(s.tensor(new Float32Array(4), [4]));
kept = made.filter((t, i) => (i % 2 ? true : (t.dispose(), false)));
measure(`${live} live, ${live} holes`);
for (const t of kept) t.dispose();
measure('all disposed again');
console.log(`load average ${os.loadavg()[0].toFixed(1)} at the end`);
model.dispose();
s.shutdown?.();
