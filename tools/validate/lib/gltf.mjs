// Minimal glTF 2.0 / GLB reading helpers shared by validate-glb.mjs and
// validate-tileset.mjs: GLB container parsing, buffer view access, accessor
// decoding (byteStride, normalized, sparse) and scene traversal.
// Every function throws an Error with a readable message on malformed input;
// callers turn that into a validation error.

import { MeshoptDecoder } from 'meshoptimizer/decoder';

await MeshoptDecoder.ready;

import { identity, multiply, nodeMatrix } from './geometry.mjs';

const GLB_MAGIC = 0x46546c67; // "glTF"
const CHUNK_JSON = 0x4e4f534a; // "JSON"
const CHUNK_BIN = 0x004e4942; // "BIN\0"

/** Parses a GLB container. Returns { json, bin } (bin is a Uint8Array or null). */
export function parseGlb(bytes) {
  if (bytes.byteLength < 20) throw new Error(`file too short for GLB (${bytes.byteLength} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== GLB_MAGIC) throw new Error('bad GLB magic (expected "glTF")');
  const version = dv.getUint32(4, true);
  if (version !== 2) throw new Error(`unsupported GLB version ${version}`);
  const length = dv.getUint32(8, true);
  if (length > bytes.byteLength) throw new Error(`GLB header length ${length} > file size ${bytes.byteLength}`);

  let json = null;
  let bin = null;
  for (let offset = 12; offset + 8 <= length; ) {
    const chunkLength = dv.getUint32(offset, true);
    const chunkType = dv.getUint32(offset + 4, true);
    const start = offset + 8;
    if (start + chunkLength > length) throw new Error(`GLB chunk at ${offset} overruns the file`);
    const data = bytes.subarray(start, start + chunkLength);
    if (chunkType === CHUNK_JSON && json === null) json = JSON.parse(new TextDecoder().decode(data));
    else if (chunkType === CHUNK_BIN && bin === null) bin = data;
    offset = start + chunkLength;
  }
  if (json === null) throw new Error('GLB has no JSON chunk');
  return { json, bin };
}

/** Decodes an EXT_meshopt_compression bufferView (spec: byteLength = count * byteStride). */
function meshoptViewBytes(gltf, bin, index, view, mo) {
  const { count, byteStride, mode } = mo;
  if (!Number.isInteger(count) || !Number.isInteger(byteStride) || view.byteLength !== count * byteStride) {
    throw new Error(`bufferView ${index}: EXT_meshopt_compression count ${count} x byteStride ${byteStride} != byteLength ${view.byteLength}`);
  }
  const src = bufferBytes(gltf, bin, mo.buffer);
  const start = mo.byteOffset ?? 0;
  const end = start + mo.byteLength;
  if (!(end <= src.byteLength)) {
    throw new Error(`bufferView ${index}: compressed range [${start}, ${end}) exceeds buffer ${mo.buffer} (${src.byteLength} bytes)`);
  }
  const out = new Uint8Array(count * byteStride);
  try {
    MeshoptDecoder.decodeGltfBuffer(out, count, byteStride, src.subarray(start, end), mode, mo.filter ?? 'NONE');
  } catch (e) {
    throw new Error(`bufferView ${index}: EXT_meshopt_compression ${mode} data does not decode: ${e.message}`);
  }
  return out;
}

/** Bytes of buffer `index`: the GLB BIN chunk or a base64 data: URI. External files are refused. */
function bufferBytes(gltf, bin, index) {
  const buffer = gltf.buffers?.[index];
  if (!buffer) throw new Error(`buffer ${index} does not exist`);
  if (buffer.uri === undefined) {
    if (index !== 0 || !bin) throw new Error(`buffer ${index} has no uri and there is no GLB BIN chunk`);
    return bin;
  }
  const m = /^data:[^,]*;base64,(.*)$/s.exec(buffer.uri);
  if (!m) throw new Error(`buffer ${index} refers to an external resource (${buffer.uri}); GLBs must be self-contained`);
  return new Uint8Array(Buffer.from(m[1], 'base64'));
}

/** Bytes of buffer view `index` (a subarray; range-checked). A view with
 * EXT_meshopt_compression is decoded from its compressed range (a new array). */
export function bufferViewBytes(gltf, bin, index) {
  const view = gltf.bufferViews?.[index];
  if (!view) throw new Error(`bufferView ${index} does not exist`);
  const mo = view.extensions?.EXT_meshopt_compression;
  if (mo) return meshoptViewBytes(gltf, bin, index, view, mo);
  const buffer = bufferBytes(gltf, bin, view.buffer);
  const start = view.byteOffset ?? 0;
  const end = start + view.byteLength;
  if (!(end <= buffer.byteLength)) {
    throw new Error(`bufferView ${index} [${start}, ${end}) exceeds buffer ${view.buffer} (${buffer.byteLength} bytes)`);
  }
  return buffer.subarray(start, end);
}

// glTF accessor componentType -> [byte size, DataView getter, max value for normalization]
const COMPONENT_TYPES = {
  5120: [1, 'getInt8', 127],
  5121: [1, 'getUint8', 255],
  5122: [2, 'getInt16', 32767],
  5123: [2, 'getUint16', 65535],
  5125: [4, 'getUint32', 4294967295],
  5126: [4, 'getFloat32', 0],
};
export const ACCESSOR_TYPE_SIZES = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT2: 4, MAT3: 9, MAT4: 16 };

/** Reads `count` elements of `n` components from `bytes` into `out` (Float64Array). */
function readElements(bytes, componentType, n, count, stride, normalized, out, outIndex = null) {
  const [size, getter, max] = COMPONENT_TYPES[componentType] ?? [];
  if (!size) throw new Error(`unsupported componentType ${componentType}`);
  const elementSize = size * n;
  stride = stride || elementSize;
  if (count > 0 && (count - 1) * stride + elementSize > bytes.byteLength) {
    throw new Error(`accessor data (${count} x stride ${stride}) exceeds its bufferView (${bytes.byteLength} bytes)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < count; i++) {
    const dst = (outIndex ? outIndex[i] : i) * n;
    for (let c = 0; c < n; c++) {
      let v = dv[getter](i * stride + c * size, true);
      if (normalized && max) v = Math.max(v / max, -1);
      out[dst + c] = v;
    }
  }
}

/**
 * Decodes accessor `index` into { count, n, componentType, data: Float64Array(count * n) }.
 * Handles missing bufferView (zeros), byteStride, normalized integers and sparse
 * substitution. (Matrix column padding for 1/2-byte MAT accessors is not handled;
 * we never read such accessors.)
 */
export function readAccessor(gltf, bin, index) {
  const acc = gltf.accessors?.[index];
  if (!acc) throw new Error(`accessor ${index} does not exist`);
  const n = ACCESSOR_TYPE_SIZES[acc.type];
  if (!n) throw new Error(`accessor ${index} has unknown type ${acc.type}`);
  const data = new Float64Array(acc.count * n);
  if (acc.bufferView !== undefined) {
    const view = gltf.bufferViews?.[acc.bufferView];
    const bytes = bufferViewBytes(gltf, bin, acc.bufferView);
    const slice = bytes.subarray(acc.byteOffset ?? 0);
    readElements(slice, acc.componentType, n, acc.count, view.byteStride, acc.normalized, data);
  }
  if (acc.sparse) applySparse(gltf, bin, acc, n, data);
  return { count: acc.count, n, componentType: acc.componentType, data };
}

function applySparse(gltf, bin, acc, n, data) {
  const { count, indices, values } = acc.sparse;
  const idx = new Float64Array(count);
  const idxBytes = bufferViewBytes(gltf, bin, indices.bufferView).subarray(indices.byteOffset ?? 0);
  readElements(idxBytes, indices.componentType, 1, count, 0, false, idx);
  for (const i of idx) if (i >= acc.count) throw new Error(`sparse index ${i} out of range`);
  const valBytes = bufferViewBytes(gltf, bin, values.bufferView).subarray(values.byteOffset ?? 0);
  readElements(valBytes, acc.componentType, n, count, 0, acc.normalized, data, idx);
}

/**
 * Calls visit(nodeIndex, node, worldMatrix) for every node of the default scene
 * (or, without scenes, every root node), with the glTF node matrix chain applied.
 */
export function forEachNode(gltf, visit) {
  const nodes = gltf.nodes ?? [];
  let roots;
  const scene = gltf.scenes?.[gltf.scene ?? 0];
  if (scene) roots = scene.nodes ?? [];
  else {
    const isChild = new Set(nodes.flatMap((nd) => nd.children ?? []));
    roots = nodes.map((_, i) => i).filter((i) => !isChild.has(i));
  }
  const seen = new Set(); // guards against malformed (cyclic) hierarchies
  const walk = (i, parent) => {
    const node = nodes[i];
    if (!node || seen.has(i)) return;
    seen.add(i);
    const world = multiply(parent, nodeMatrix(node));
    visit(i, node, world);
    for (const c of node.children ?? []) walk(c, world);
  };
  for (const r of roots) walk(r, identity());
}
