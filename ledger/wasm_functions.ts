import * as duckdb from "@duckdb/duckdb-wasm/dist/duckdb-node-blocking.cjs";
import * as arrow from "apache-arrow";

/** The parts of duckdb-wasm's Emscripten module that a scalar function call touches. */
interface WasmModule {
  HEAPU8: Uint8Array;
  _malloc(bytes: number): number;
}
type Udf = { func: (...args: unknown[]) => unknown };
type Runtime = duckdb.DuckDBRuntime & { _udfFunctions?: Map<number, Udf> };
interface ArgumentView {
  physicalType: string;
  validityBuffer?: number;
  dataBuffer?: number;
  lengthBuffer?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const doubles = (m: WasmModule, ptr: number, n: number) =>
  new Float64Array(m.HEAPU8.buffer, ptr, n);
const NUMERIC: Record<string, new (b: ArrayBuffer, o: number, n: number) => ArrayLike<number>> = {
  UINT8: Uint8Array,
  INT8: Int8Array,
  INT32: Int32Array,
  FLOAT: Float32Array,
  DOUBLE: Float64Array,
};

function readArgument(m: WasmModule, buffers: Float64Array, arg: ArgumentView, rows: number) {
  const valid = arg.validityBuffer === undefined
    ? undefined
    : new Uint8Array(m.HEAPU8.buffer, buffers[arg.validityBuffer], rows);
  const out: unknown[] = new Array(rows).fill(null);
  if (arg.physicalType === "NULL") return out;
  if (arg.physicalType === "VARCHAR") {
    const ptrs = doubles(m, buffers[arg.dataBuffer!], rows);
    const lengths = doubles(m, buffers[arg.lengthBuffer!], rows);
    for (let i = 0; i < rows; i++) {
      if (!valid || valid[i]) {
        out[i] = decoder.decode(m.HEAPU8.subarray(ptrs[i], ptrs[i] + lengths[i]));
      }
    }
    return out;
  }
  const View = NUMERIC[arg.physicalType];
  if (!View) throw new Error(`unsupported argument type ${arg.physicalType}`);
  const values = new View(m.HEAPU8.buffer as ArrayBuffer, buffers[arg.dataBuffer!], rows);
  for (let i = 0; i < rows; i++) if (!valid || valid[i]) out[i] = values[i];
  return out;
}

/**
 * duckdb-wasm 1.32's own bridge for JavaScript scalar functions hands DuckDB string offsets
 * where it must hand pointers, so every VARCHAR result reads as "\0" (duckdb-wasm issues 1720
 * and 1882). This bridge does the same call with pointers; it supports VARCHAR and numeric
 * arguments and VARCHAR or DOUBLE results, which is what the ledger's functions use.
 */
function callScalarFunction(
  m: WasmModule,
  response: number,
  functionId: number,
  descriptorPtr: number,
  descriptorSize: number,
  buffersPtr: number,
  buffersSize: number,
): void {
  try {
    const udf = (globalThis as { DUCKDB_RUNTIME?: Runtime }).DUCKDB_RUNTIME?._udfFunctions?.get(
      functionId,
    );
    if (!udf) throw new Error(`unknown function id ${functionId}`);
    const call = JSON.parse(
      decoder.decode(m.HEAPU8.subarray(descriptorPtr, descriptorPtr + descriptorSize)),
    ) as { rows: number; args: ArgumentView[]; ret: { physicalType: string } };
    const buffers = doubles(m, buffersPtr, buffersSize / 8);
    const args = call.args.map((a) => readArgument(m, buffers, a, call.rows));
    const results = Array.from({ length: call.rows }, (_, i) => udf.func(...args.map((a) => a[i])));
    const data = m._malloc(call.rows * 8);
    const validity = m._malloc(call.rows);
    let lengths = 0;
    if (call.ret.physicalType === "VARCHAR") {
      const bytes = results.map((r) => encoder.encode(r == null ? "" : String(r)));
      const chars = m._malloc(Math.max(1, bytes.reduce((n, b) => n + b.length, 0)));
      lengths = m._malloc(call.rows * 8);
      let offset = chars;
      bytes.forEach((b, i) => {
        m.HEAPU8.set(b, offset);
        doubles(m, data, call.rows)[i] = offset;
        doubles(m, lengths, call.rows)[i] = b.length;
        offset += b.length;
      });
    } else if (call.ret.physicalType === "DOUBLE") {
      results.forEach((r, i) => doubles(m, data, call.rows)[i] = Number(r ?? 0));
    } else {
      throw new Error(`unsupported result type ${call.ret.physicalType}`);
    }
    new Uint8Array(m.HEAPU8.buffer, validity, call.rows).set(results.map((r) => r == null ? 0 : 1));
    const triple = m._malloc(24);
    doubles(m, triple, 3).set([data, validity, lengths]);
    doubles(m, response, 3).set([0, triple, 0]);
  } catch (err) {
    const message = encoder.encode(String(err));
    const ptr = m._malloc(message.length);
    m.HEAPU8.set(message, ptr);
    doubles(m, response, 3).set([1, ptr, message.length]);
  }
}

/** duckdb-wasm's Node runtime with the scalar-function bridge above. */
export const WASM_RUNTIME: duckdb.DuckDBRuntime = {
  ...duckdb.NODE_RUNTIME,
  callScalarUDF: callScalarFunction,
} as unknown as duckdb.DuckDBRuntime;

/** Follows a DuckDB JSON path: `$.a.b[0]`, a JSON pointer `/a/b/0`, a member name, or an index. */
function follow(json: string, path: string | number): unknown {
  let value: unknown = JSON.parse(json);
  const steps = typeof path === "number"
    ? [path]
    : path.startsWith("$")
    ? [...path.matchAll(/\.([^.[\]]+)|\[(\d+)\]|\["([^"]*)"\]/g)].map((m) =>
      m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3])
    )
    : path.startsWith("/")
    ? path.slice(1).split("/").map((s) => s.replaceAll("~1", "/").replaceAll("~0", "~"))
    : [path];
  for (const step of steps) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[step];
  }
  return value;
}

const extractString = (json: string | null, path: string | number | null) => {
  if (json === null || path === null) return null;
  const v = follow(json, path);
  return v == null ? null : typeof v === "string" ? v : JSON.stringify(v);
};
const extract = (json: string | null, path: string | number | null) => {
  if (json === null || path === null) return null;
  const v = follow(json, path);
  return v === undefined ? null : JSON.stringify(v);
};

/**
 * The JSON functions the views and most ledger queries use, for a DuckDB without its JSON
 * extension (which duckdb-wasm would fetch from the network): `json_extract_string` and `->>`
 * (text), `json_extract` and `->` (JSON text).
 */
export function addJsonFunctions(conn: duckdb.DuckDBConnection): void {
  for (const name of ["json_extract_string", "->>"]) {
    conn.createScalarFunction(name, new arrow.Utf8(), extractString);
  }
  for (const name of ["json_extract", "->"]) {
    conn.createScalarFunction(name, new arrow.Utf8(), extract);
  }
}
