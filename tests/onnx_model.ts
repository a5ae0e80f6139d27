import onnxProto from "onnx-proto";

// deno-lint-ignore no-explicit-any -- onnx-proto ships no types for its generated classes
const { onnx } = onnxProto as unknown as { onnx: Record<string, any> };

/** ONNX tensor element types (`T.FLOAT`, `T.INT64`, …). */
export const T = onnx.TensorProto.DataType;
/** The ONNX attribute type of an integer attribute. */
export const INT = onnx.AttributeProto.AttributeType.INT;

/** A graph input's or output's type: a tensor of `elemType` with these dimensions. */
export const tensor = (
  elemType: number,
  dims: ({ dimParam: string } | { dimValue: number })[],
) => ({ tensorType: { elemType, shape: { dim: dims } } });

/** Writes `graph` (opset 17) as `DIR/onnx/model.onnx`, where transformers.js looks for it. */
export async function writeOnnxModel(dir: string, graph: Record<string, unknown>): Promise<void> {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    producerName: "troupe-tests",
    graph,
  });
  await Deno.mkdir(`${dir}/onnx`, { recursive: true });
  await Deno.writeFile(`${dir}/onnx/model.onnx`, onnx.ModelProto.encode(model).finish());
}
