// Model files: the safetensors format and the places its bytes are kept.
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export type { SafetensorsEntry, DecodedTensor, DecodedSafetensors, DecodeOptions, EncodeOptions } from './safetensors.js';
export { downloadBytes } from './storage.js';
export type { IdbOptions } from './storage.js';
