#!/usr/bin/env node
// The `simdnn` command: a shim over the built CLI (src/cli.ts → dist/cli.js, `npm run build`).
import { main } from '../dist/cli.js';
import { shutdown } from '../dist/index.js';

// `simdnn predict ... | head` closes the pipe early: stop quietly rather than with EPIPE.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const code = await main(process.argv.slice(2));
shutdown(); // frees the backend (and any worker threads) so that the process can end
process.exitCode = code;
