/**
 * Imports transformers.js for use on this machine only (no remote models), from the main thread
 * or a worker. In a worker, the onnxruntime-web code bundled in it reads `location.origin` as it
 * loads, and a file-URL worker's origin is "null", which it cannot parse; `location` is hidden
 * for the import and put back after.
 */
export async function loadTransformers(modelRoot: string) {
  const own = Object.getOwnPropertyDescriptor(globalThis, "location");
  if (own) Object.defineProperty(globalThis, "location", { value: undefined, configurable: true });
  try {
    const transformers = await import("@huggingface/transformers");
    transformers.env.allowRemoteModels = false;
    transformers.env.allowLocalModels = true;
    transformers.env.localModelPath = modelRoot.endsWith("/") ? modelRoot : `${modelRoot}/`;
    return transformers;
  } finally {
    if (own) Object.defineProperty(globalThis, "location", own);
  }
}
