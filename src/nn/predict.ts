// predict() as recorded programs (src/core/program.ts). The forward pass (the model's scaler, then its
// layers with dropout off) runs through the ops once per batch size while its backend calls are
// recorded; later calls with that many rows replay them, reading the input where the caller's data is
// and writing the result straight into a new tensor. At batch 1 the ops path spent about a quarter of
// its time in tensor bookkeeping; a replay is the kernels alone. The programs are the model's (a few, the
// most recently used) and are freed with it.
import type { Handle } from '../core/backend.js';
import { noGrad } from '../autograd/api.js';
import { engine } from '../core/engine.js';
import { record, type Program } from '../core/program.js';
import { tensor } from '../ops/creation.js';
import { empty } from '../ops/util.js';
import { tidy } from '../core/scope.js';
import { Tensor } from '../core/tensor.js';

/** Batch sizes above this run through the ops directly (their temporaries would cost more memory than a replay saves time). */
export const MAX_RECORDED_ROWS = 4096;
/** Programs kept per model (one per batch size, least recently used dropped). */
const KEEP = 4;

interface Entry {
  program: Program<Tensor>;
}

export class ForwardPrograms {
  private readonly entries = new Map<number, Entry>();
  private readonly args: Handle[] = [null, null];
  private recordedFor: unknown = undefined;

  /**
   * `forward` is the pass to record; `key()` names what it depends on besides the parameters' values (the
   * scaler, the layer list): when it changes, the recorded programs are dropped.
   */
  constructor(
    private readonly forward: (x: Tensor) => Tensor,
    private readonly key: () => unknown,
  ) {}

  /** The forward pass of x [rows, inputs] into a new [rows, outputs] tensor. */
  run(x: Tensor, outputs: number): Tensor {
    const rows = x.shape[0];
    const e = this.entry(rows);
    return e ? this.replay(e, x.handle('predict'), rows, outputs) : this.recordFor(x, rows);
  }

  /** The forward pass of one row of raw features, without an input tensor from the caller. */
  runRow(row: Float32Array, outputs: number): Tensor {
    const e = this.entry(1);
    if (!e) {
      const x = tensor(row, [1, row.length]);
      try {
        return this.recordFor(x, 1);
      } finally {
        x.dispose();
      }
    }
    const be = engine.requireBackend();
    const h = be.alloc(row.length);
    try {
      be.write(h, row);
      return this.replay(e, h, 1, outputs);
    } finally {
      be.free(h);
    }
  }

  /** The program for `rows` rows, if one is recorded and still valid. */
  private entry(rows: number): Entry | undefined {
    const key = this.key();
    if (key !== this.recordedFor) {
      this.clear();
      this.recordedFor = key;
    }
    const e = this.entries.get(rows);
    if (!e) return undefined;
    this.entries.delete(rows);
    if (!e.program.valid) {
      e.program.dispose();
      return undefined;
    }
    this.entries.set(rows, e); // most recently used last
    return e;
  }

  private replay(e: Entry, input: Handle, rows: number, outputs: number): Tensor {
    const y = empty([rows, outputs]);
    this.args[0] = input;
    this.args[1] = y.handle('predict');
    try {
      e.program.run(0, this.args);
    } catch (err) {
      y.dispose();
      throw err;
    }
    return y;
  }

  private recordFor(x: Tensor, rows: number): Tensor {
    const program = record(() => noGrad(() => tidy(() => this.forward(x))));
    const y = new Tensor(program.result.shape, program.result.storage!);
    if (rows > MAX_RECORDED_ROWS) {
      // Ran once, for real; keep the result, not the program.
      program.result.dispose();
      program.dispose();
      return y;
    }
    program.slot(x);
    program.slot(program.result);
    // Every run writes the output where it is told; the recorded result was only this first caller's.
    program.result.dispose();
    this.entries.set(rows, { program });
    if (this.entries.size > KEEP) {
      const [oldRows, old] = this.entries.entries().next().value!;
      this.entries.delete(oldRows);
      old.program.dispose();
    }
    return y;
  }

  /** Frees the programs (the model changed, or is disposed). */
  clear(): void {
    for (const e of this.entries.values()) e.program.dispose();
    this.entries.clear();
  }
}
