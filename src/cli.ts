// The `simdnn` command line: `train`, `predict`, `explain`, `tune`, `info`. bin/simdnn.mjs calls main() from the bundle
// dist/cli.js, which imports the library from dist/index.js (one copy of the runtime, shared with
// anyone importing 'simdnn' in the same process). main() returns the exit code rather than exiting,
// and takes its writers as arguments, so tests run it in-process.
import { closest } from './cli/args.js';
import { explain, explainHelp } from './cli/explain.js';
import { mainHelp, trainHelp, predictHelp, infoHelp } from './cli/help.js';
import { info } from './cli/info.js';
import { defaultIO, EXIT, oneLine, UsageError, version, type CliIO } from './cli/io.js';
import { predict } from './cli/predict.js';
import { train } from './cli/train.js';
import { tune, tuneHelp } from './cli/tune.js';

export type { CliIO } from './cli/io.js';
export { UsageError } from './cli/io.js';

const COMMANDS: Record<string, (argv: string[], io: CliIO) => Promise<number>> = { train, predict, explain, tune, info };
const HELP: Record<string, () => string> = { train: trainHelp, predict: predictHelp, explain: explainHelp, tune: tuneHelp, info: infoHelp };

/**
 * Runs the CLI on `argv` (the arguments after the program name) and resolves with the exit code:
 * 0 done, 1 failed while running, 2 bad usage or input. Errors are one line on stderr, never a stack
 * (set SIMDNN_DEBUG=1 for the stack).
 */
export async function main(argv: string[], io: Partial<CliIO> = {}): Promise<number> {
  const out: CliIO = { ...defaultIO(), ...io };
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === '--help' || cmd === '-h') {
      out.stdout(mainHelp());
      return EXIT.ok;
    }
    if (cmd === 'help') {
      const topic = rest[0];
      if (topic !== undefined && !HELP[topic]) throw new UsageError(`simdnn help: no command '${topic}'; commands: ${Object.keys(COMMANDS).join(', ')}.`);
      out.stdout(topic ? HELP[topic]() : mainHelp());
      return EXIT.ok;
    }
    if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
      out.stdout(`simdnn ${version()}\n`);
      return EXIT.ok;
    }
    const run = COMMANDS[cmd];
    if (!run) {
      if (cmd.startsWith('-')) throw new UsageError(`simdnn: unknown option '${cmd}' (see simdnn --help).`);
      const near = closest(cmd, Object.keys(COMMANDS));
      throw new UsageError(`simdnn: unknown command '${cmd}'${near ? `; did you mean '${near}'?` : ''} (commands: ${Object.keys(COMMANDS).join(', ')}; see simdnn --help).`);
    }
    return await run(rest, out);
  } catch (e) {
    const usage = e instanceof UsageError;
    const msg = oneLine(e);
    // Errors raised here name their command already; those from the library get it prefixed.
    const prefix = msg.startsWith('simdnn') ? '' : COMMANDS[cmd ?? ''] ? `simdnn ${cmd}: ` : 'simdnn: ';
    out.stderr(`${prefix}${msg}\n`);
    if (!usage && typeof process !== 'undefined' && process.env?.SIMDNN_DEBUG && e instanceof Error && e.stack) out.stderr(`${e.stack}\n`);
    return usage ? EXIT.usage : EXIT.failed;
  }
}
