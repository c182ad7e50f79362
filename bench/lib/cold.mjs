// Cold start of one system: node bench/lib/cold.mjs <peer> <variant>
// Imports the library, initialises it, builds the 784-512-256-10 model and predicts once, then exits.
// bench/run.mjs times the whole process from spawn to exit (Node's own start-up included).
const [peer, variant] = process.argv.slice(2);
const { coldStart } = await import(`../peers/${peer}.mjs`);
const n = await coldStart(variant);
if (n !== 10) throw new Error(`cold start of ${peer} ${variant}: expected 10 outputs, got ${n}`);
// CPU time of the whole process (all its threads): steadier than wall time on a busy machine.
const u = process.cpuUsage();
process.stderr.write(`\n${JSON.stringify({ cpuMs: (u.user + u.system) / 1000 })}\n`);
process.exit(0);
