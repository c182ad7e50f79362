// The backends' view of the op table: the codes and their types, re-exported from src/core/optable.ts (the
// one place they are defined; assembly/codes.ts and the WGSL switch arms are generated from it).
export {
  Unary, Binary, Reduce, LabelMode, Optim, HYPER, checkCode,
  type UnaryCode, type UnaryName, type BinaryCode, type BinaryName, type ReduceCode, type ReduceName,
  type LabelModeCode, type OptimCode,
} from '../core/optable.js';
