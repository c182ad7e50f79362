// The 'storage' part, loaded on first use (src/lazy.ts): files (Node, Deno), URLs and IndexedDB.
import '../index.js'; // keeps the core in one shared chunk: see the build note in src/lazy.ts
export { writeFileAtomic, readFileBytes, fetchBytes, idbSave, idbLoad, idbDelete, idbList } from '../io/storage-impl.js';
