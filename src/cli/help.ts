// Help texts. Defaults are printed from the values the commands use, so the two cannot drift.
import { BACKENDS, DEFAULTS as D, HIDDEN_ACTIVATIONS } from './defaults.js';
import { version } from './io.js';

export function mainHelp(): string {
  return `simdnn ${version()}: train and run neural networks on WebAssembly SIMD

Usage:
  simdnn train [data.csv | digits | iris | diabetes] train an MLP on a CSV table or a built-in one
  simdnn tune [data.csv | digits | iris | diabetes] [--budget 60s | --trials N]  search its hyperparameters; save the best
  simdnn predict model.safetensors data.csv [--out predictions.csv]
  simdnn explain model.safetensors data.csv [--method ig|gradient|gradientXInput|permutation]
  simdnn info [--backend B] [--json]                the backend and features here
  simdnn help [command] | --help | --version

With no file, train uses the built-in digits dataset (1,797 8×8 handwritten digits):
  simdnn train                                       ≈ 0.98 test accuracy in seconds

Examples:
  simdnn train iris --hidden 16 --epochs 100 --lr 0.01 --out iris.safetensors
  simdnn train diabetes --hidden 64,32 --out diabetes.safetensors
  simdnn train my-table.csv --target price
  simdnn train iris --lr auto                         (a range test picks the rate)
  simdnn tune diabetes --budget 60s
  simdnn predict model.safetensors new-rows.csv --out predictions.csv
  simdnn explain model.safetensors new-rows.csv --rows 100 --out attributions.csv

Exit codes: 0 done, 1 failed while running (e.g. training diverged), 2 bad usage or input.
Run 'simdnn <command> --help' for a command's options.
`;
}

export function trainHelp(): string {
  return `Usage: simdnn train [data.csv | digits | iris | diabetes] [options]

Reads a CSV with a header row (showing its progress), splits it (stratified for classes),
standardizes the features, trains an MLP with a live progress bar, saves the model (weights,
topology and preprocessing in one safetensors file), then prints test metrics. With no file: the
built-in digits data; 'digits', 'iris' or 'diabetes' name a table shipped with simdnn.

Data
  -t, --target COL        the column to predict (default: the last column; the built-in tables know theirs)
      --features A,B,...  the feature columns (default: every other column)
      --task T            classification | regression (default: guessed from the target)
      --missing M         drop | mean | median | mostFrequent | error (default: drop rows)
      --scale S           standard | minmax | none (default: standard)
      --test F            fraction held out for testing (default ${D.test}; 0: none)
      --val F             fraction of the training rows for validation (default ${D.val}; 0: none)
      --seed N            seed of the split, the initial weights and shuffling (default ${D.seed})
Model
      --hidden N,N,...    hidden layer sizes (default ${D.hidden.join(',')}; 'none' for a linear model)
      --activation A      ${HIDDEN_ACTIVATIONS.join(' | ')} (default ${D.activation})
      --dropout P         dropout rate after each hidden layer (default 0)
Training
  -e, --epochs N          passes over the training rows (default ${D.epochs})
      --lr X              learning rate (default ${D.lr}); 'auto': a range test on the training
                          rows picks it (plotted), and training follows a one-cycle schedule
  -b, --batch-size N      rows per step (default ${D.batchSize})
      --optimizer O       adam | adamw | sgd | rmsprop | adagrad (default ${D.optimizer}; sgd uses momentum 0.9)
      --weight-decay X    L2 penalty (adam, sgd, ...) or decoupled decay (adamw)
      --loss L            softmaxCrossEntropy | binaryCrossEntropy | mse | mae | huber
                          (default: softmaxCrossEntropy for classes, mse for numbers)
      --patience N        stop when the validation loss has not improved for N epochs; keep the best
      --dp-epsilon E      train with differential privacy (DP-SGD), spending at most ε = E
      --dp-delta D        δ of the privacy guarantee (default 1e-5; must be below 1/rows)
      --dp-clip C         clip each sample's gradient to norm C (default 1)
      --backend B         ${BACKENDS.join(' | ')} (default ${D.backend})
Output
  -o, --out FILE          where to save the model (default ${D.out})
      --explain           add the 10 most important features to the report: permutation importance
                          on the test rows (the drop in accuracy or R² when a feature is shuffled)
  -q, --quiet             no progress bar or header; only the metrics and the saved path
  -h, --help              this help
`;
}

export function predictHelp(): string {
  return `Usage: simdnn predict model.safetensors data.csv [--out predictions.csv]

Encodes the CSV's rows as the model's training data was (columns matched by name; the target
column may be absent), predicts, and writes a CSV: for a classifier the predicted class and
one probability column per class, for a regression model the predicted value. Without --out
the CSV goes to stdout (and any metrics to stderr). When the file has the target column, the
metrics against it are printed too. The file is read, predicted and written a chunk at a time,
so its size is not limited by memory.

Options
  -o, --out FILE     write the predictions to FILE instead of stdout
      --backend B    ${BACKENDS.join(' | ')} (default ${D.backend})
  -h, --help         this help
`;
}

export function infoHelp(): string {
  return `Usage: simdnn info [--backend ${BACKENDS.join('|')}] [--json]

Starts the runtime and prints the backend that runs, the engine's features (SIMD, relaxed SIMD,
threads, WebGPU) and why any faster option was left out.
`;
}
