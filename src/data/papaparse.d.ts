// Types for Papa Parse's prebuilt file, which csv.ts imports instead of the package's main file: the
// main file's Node stream support calls require('stream'), which a platform-neutral bundle (browser,
// Deno, edge) cannot resolve; papaparse.min.js is the same parser without it (the package's
// "browser" entry).
declare module 'papaparse/papaparse.min.js' {
  import * as Papa from 'papaparse';
  export default Papa;
}
