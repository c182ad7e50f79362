// Training progress on stderr. On a terminal: one line per epoch, redrawn with \r while its batches
// run (bar, running loss, samples/s) and completed with the validation figures when the epoch ends.
// Elsewhere (a pipe, a log file, CI): one plain line per finished epoch, no control characters.
import type { BatchLogs, Callbacks, EpochLogs, History } from '../index.js';
import { bytes, count, rate, seconds } from './format.js';
import type { CliIO } from './io.js';

/** Redraw at most this often: a terminal write per batch would cost more than the batch. */
const REDRAW_MS = 80;

export class Progress {
  private epochStart = 0;
  private lastBatch = 0;
  private lastDraw = 0;
  private seen = 0;
  private lossSum = 0;
  private printed = 0; // epochs whose final line is out
  private drawing = false; // a partial line is on screen
  private readonly rates: number[] = [];
  private totalSeen = 0;
  private totalMs = 0;
  private barWidth: number | undefined;

  constructor(
    private readonly io: CliIO,
    private readonly epochs: number,
    private readonly rowsPerEpoch: number,
    /** Draw nothing (--quiet); the throughput is still measured. */
    private readonly silent = false,
  ) {}

  callbacks(): Callbacks {
    return {
      onEpochBegin: (epoch) => this.epochBegin(epoch),
      onBatchEnd: (_batch, logs) => this.batchEnd(logs),
      onEpochEnd: (_epoch, logs) => this.epochEnd(logs),
      onTrainEnd: (history) => this.trainEnd(history),
    };
  }

  /** Training throughput over the whole run: samples over the time of the batches (validation excluded). */
  get samplesPerSecond(): number {
    return this.totalMs > 0 ? this.totalSeen / (this.totalMs / 1000) : 0;
  }

  get samples(): number {
    return this.totalSeen;
  }

  private epochBegin(epoch: number): void {
    this.epochStart = this.lastBatch = performance.now();
    this.seen = 0;
    this.lossSum = 0;
  }

  private batchEnd(logs: BatchLogs): void {
    this.seen += logs.size;
    this.lossSum += logs.loss * logs.size;
    this.lastBatch = performance.now();
    if (this.silent || !this.io.isTTY || this.lastBatch - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = this.lastBatch;
    const text = `loss ${(this.lossSum / this.seen).toFixed(4)} · ${rate(this.speed())} samples/s`;
    this.io.stderr(`\r${this.fit(logs.epoch, this.seen / this.rowsPerEpoch, text)}\x1b[K`);
    this.drawing = true;
  }

  private speed(): number {
    const s = (this.lastBatch - this.epochStart) / 1000;
    return s > 0 ? this.seen / s : 0;
  }

  private epochEnd(logs: EpochLogs): void {
    this.closeEpoch();
    this.line(logs, this.rates[logs.epoch]);
  }

  private closeEpoch(): void {
    this.rates.push(this.speed());
    this.totalSeen += this.seen;
    this.totalMs += this.lastBatch - this.epochStart;
  }

  /** Early stopping ends fit() without onEpochEnd for the last epoch: finish its line here. */
  private trainEnd(history: History): void {
    for (let e = this.printed; e < history.epochs.length; e++) {
      if (this.rates.length <= e) this.closeEpoch();
      this.line(history.epochs[e], this.rates[e]);
    }
    if (this.drawing) {
      this.io.stderr('\r\x1b[K');
      this.drawing = false;
    }
  }

  private line(l: EpochLogs, speed: number): void {
    this.printed = l.epoch + 1;
    if (this.silent) return;
    let text = `loss ${l.loss.toFixed(4)}`;
    if (l.accuracy !== undefined) text += ` acc ${l.accuracy.toFixed(4)}`;
    if (l.valLoss !== undefined) text += ` · val loss ${l.valLoss.toFixed(4)}`;
    if (l.valAccuracy !== undefined) text += ` acc ${l.valAccuracy.toFixed(4)}`;
    text += ` · ${rate(speed)} samples/s`;
    if (this.io.isTTY) {
      this.io.stderr(`\r${this.fit(l.epoch, 1, text)}\x1b[K\n`);
      this.drawing = false;
    } else {
      this.io.stderr(`${this.label(l.epoch)}  ${text.replace(/ · /g, '  ')}\n`);
    }
  }

  private label(epoch: number): string {
    const w = String(this.epochs).length;
    return `epoch ${String(epoch + 1).padStart(w)}/${this.epochs}`;
  }

  /**
   * "epoch 3/30 [bar] text". The bar keeps one width for the whole run: what the terminal leaves beside
   * the longest line an epoch can end with, at most 30 cells; none on a narrow terminal.
   */
  private fit(epoch: number, frac: number, text: string): string {
    const head = this.label(epoch);
    this.barWidth ??= (() => {
      const longest = 'loss 0.0000 acc 0.0000 · val loss 0.0000 acc 0.0000 · 100,000 samples/s'.length;
      const room = this.io.columns - 1 - head.length - longest - 2;
      return room >= 8 ? Math.min(30, room) : 0;
    })();
    const width = this.barWidth;
    const full = Math.max(0, Math.min(width, Math.round(frac * width)));
    const line = width ? `${head} ${'█'.repeat(full)}${'░'.repeat(width - full)} ${text}` : `${head} ${text}`;
    return line.length > this.io.columns - 1 ? line.slice(0, Math.max(20, this.io.columns - 1)) : line;
  }
}

/**
 * Progress of reading a CSV (readCsv's onProgress, predict's reader), on stderr. On a terminal: one
 * line redrawn with \r (bytes read, of how many, rows) and erased when the read ends. Elsewhere: a
 * line at 25%, 50% and 75% once the read has taken a second, so that a log shows a long read moving
 * and a short one adds nothing.
 */
export class ReadProgress {
  private readonly start = performance.now();
  private lastDraw = 0;
  private drawing = false;
  private nextQuarter = 1;

  constructor(
    private readonly io: CliIO,
    private readonly label: string,
    private readonly silent = false,
  ) {}

  update(p: { bytes: number; total: number | null; rows: number }): void {
    if (this.silent) return;
    const now = performance.now();
    const frac = p.total ? p.bytes / p.total : null;
    const size = p.total ? `${bytes(p.bytes)} of ${bytes(p.total)} (${Math.floor(frac! * 100)}%)` : bytes(p.bytes);
    const rows = `${count(Math.max(0, p.rows - 1))} rows`; // the header is not a row of data
    if (this.io.isTTY) {
      if (now - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = now;
      const line = `reading ${this.label}  ${size} · ${rows}`;
      this.io.stderr(`\r${line.slice(0, Math.max(20, this.io.columns - 1))}\x1b[K`);
      this.drawing = true;
    } else if (frac !== null && now - this.start >= 1000 && frac * 4 >= this.nextQuarter && frac < 1) {
      while (this.nextQuarter <= frac * 4) this.nextQuarter++;
      this.io.stderr(`reading ${this.label}: ${size}, ${rows}, ${seconds(now - this.start)}\n`);
    }
  }

  /** Ends the read: erases the terminal line. */
  done(): void {
    if (this.drawing) this.io.stderr('\r\x1b[K');
    this.drawing = false;
  }
}
