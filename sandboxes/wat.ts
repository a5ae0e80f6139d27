import wabtInit from "wabt";

let wabt: ReturnType<typeof wabtInit> | undefined;

/** Assembles WebAssembly text (for hand-written plugins and tests) with wabt. */
export async function watToWasm(text: string, name = "module.wat"): Promise<Uint8Array> {
  wabt ??= wabtInit();
  const module = (await wabt).parseWat(name, text);
  try {
    module.validate();
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}
