// The 'storage' part, loaded on first use (src/runtime/lazy.ts): files (Node, Deno), URLs and IndexedDB.
export { writeFileAtomic, readFileBytes, fetchBytes, idbSave, idbLoad, idbDelete, idbList } from '../../io/storage-impl.js';
