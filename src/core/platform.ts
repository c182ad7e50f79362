// Types of the host platform in the public API (URL, Blob, AbortSignal, fetch's init, WebAssembly.Module),
// written so that a project type-checks simdnn's declarations with TypeScript's own ES libraries alone:
// each is the global class where the project's libraries declare it (lib DOM, @types/node, Deno), and
// otherwise a structural stand-in. A plain `URL` in a .d.ts is "Cannot find name 'URL'" under
// `lib: ["ES2022"]` with skipLibCheck off (test/types.test.ts compiles such projects).
type G = typeof globalThis;

/** A URL object: the platform's `URL` class where it is declared, else anything with an `href`. */
export type UrlObject = G extends { URL: { prototype: infer T } } ? T : { readonly href: string };

/** A Blob or File: the platform's `Blob` where it is declared, else anything with a size, a type and its bytes. */
export type BlobObject = G extends { Blob: { prototype: infer T } } ? T : { readonly size: number; readonly type: string; arrayBuffer(): Promise<ArrayBuffer> };

/** An AbortSignal (from an AbortController): the platform's class where it is declared. */
export type AbortSignalObject = G extends { AbortSignal: { prototype: infer T } } ? T : { readonly aborted: boolean; readonly reason?: unknown };

/** fetch()'s second argument (RequestInit) where fetch is declared. */
export type FetchInit = G extends { fetch: (input: never, init?: infer I) => unknown } ? I : Record<string, unknown>;

/** A compiled `WebAssembly.Module` where the WebAssembly namespace is declared (lib DOM, Deno); otherwise any object. */
export type WasmModule = G extends { WebAssembly: { Module: { prototype: infer T } } } ? T : object;
