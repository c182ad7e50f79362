// Operation codes: the same numbers as src/backend/codes.ts (the conformance suite checks every one
// against the js backend, so a mismatch fails a test).

// Unary functions, also the activation codes of the gemm epilogue.
export const U_IDENTITY: i32 = 0;
export const U_RELU: i32 = 1;
export const U_LEAKY_RELU: i32 = 2;
export const U_ELU: i32 = 3;
export const U_GELU: i32 = 4;
export const U_SIGMOID: i32 = 5;
export const U_TANH: i32 = 6;
export const U_EXP: i32 = 7;
export const U_LOG: i32 = 8;
export const U_SQRT: i32 = 9;
export const U_NEG: i32 = 10;
export const U_ABS: i32 = 11;
export const U_SQUARE: i32 = 12;
export const U_SOFTPLUS: i32 = 13;
export const U_RECIPROCAL: i32 = 14;
export const U_SIGN: i32 = 15;

// Binary functions.
export const B_ADD: i32 = 0;
export const B_SUB: i32 = 1;
export const B_MUL: i32 = 2;
export const B_DIV: i32 = 3;
export const B_MAX: i32 = 4;
export const B_MIN: i32 = 5;
export const B_GREATER: i32 = 6;
export const B_GREATER_EQUAL: i32 = 7;
export const B_EQUAL: i32 = 8;
export const B_POW: i32 = 9;

// Reductions.
export const R_SUM: i32 = 0;
export const R_MEAN: i32 = 1;
export const R_MAX: i32 = 2;
export const R_MIN: i32 = 3;
export const R_ARGMAX: i32 = 4;
export const R_ARGMIN: i32 = 5;
export const R_SUM_SQUARES: i32 = 6;

// Label modes of the softmax cross-entropy kernels.
export const L_INDEX: i32 = 0;
export const L_DENSE: i32 = 1;
