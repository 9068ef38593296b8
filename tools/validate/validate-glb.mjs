#!/usr/bin/env node
// validate-glb.mjs FILE_OR_DIR... [--json] [--verbose]
//
// Validates every .glb (directories are searched recursively) with the Khronos
// glTF validator, plus our own checks of the EXT_mesh_features /
// EXT_structural_metadata wiring, which the Khronos validator does not know.
// Exit code: 0 = all files have 0 errors, 1 = some file has errors, 2 = usage error.

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import gltfValidator from 'gltf-validator';
import { parseGlb, bufferViewBytes, readAccessor } from './lib/gltf.mjs';

const SEVERITY = ['error', 'warning', 'info', 'hint']; // Khronos severity codes 0..3

/** Collects issues for one file. */
class Issues {
  constructor() {
    this.messages = [];
  }
  error(code, pointer, message) {
    this.messages.push({ severity: 'error', source: 'citytiler', code, pointer, message });
  }
  warning(code, pointer, message) {
    this.messages.push({ severity: 'warning', source: 'citytiler', code, pointer, message });
  }
}

// ---------------------------------------------------------------------------
// Khronos validator

/** Runs the Khronos validator; returns its issue messages in our format. */
export async function runKhronos(bytes, uri) {
  const report = await gltfValidator.validateBytes(bytes, {
    uri,
    maxIssues: 0, // unlimited
    writeTimestamp: false,
    // A tile's GLB must be self-contained: any external buffer/image is an error.
    externalResourceFunction: (res) => Promise.reject(new Error(`external resource refused: ${res}`)),
  });
  return report.issues.messages.map((m) => ({
    severity: SEVERITY[m.severity] ?? String(m.severity),
    source: 'khronos',
    code: m.code,
    pointer: m.pointer ?? '',
    message: m.message,
  }));
}

// ---------------------------------------------------------------------------
// EXT_mesh_features

// Allowed componentTypes of a _FEATURE_ID_n accessor: UNSIGNED_BYTE, UNSIGNED_SHORT, FLOAT.
const FEATURE_ID_COMPONENT_TYPES = new Set([5121, 5123, 5126]);

/** Checks every primitive's EXT_mesh_features.featureIds entries. */
export function checkMeshFeatures(gltf, bin, issues) {
  (gltf.meshes ?? []).forEach((mesh, m) => {
    (mesh.primitives ?? []).forEach((prim, p) => {
      const ext = prim.extensions?.EXT_mesh_features;
      if (!ext) return;
      const base = `/meshes/${m}/primitives/${p}/extensions/EXT_mesh_features`;
      if (!Array.isArray(ext.featureIds) || ext.featureIds.length === 0) {
        issues.error('MESH_FEATURES_NO_FEATURE_IDS', base, 'featureIds must be a non-empty array');
        return;
      }
      ext.featureIds.forEach((fid, f) => checkFeatureId(gltf, bin, prim, fid, `${base}/featureIds/${f}`, issues));
    });
  });
}

function checkFeatureId(gltf, bin, prim, fid, ptr, issues) {
  const featureCount = fid.featureCount;
  if (!Number.isInteger(featureCount) || featureCount < 1) {
    issues.error('MESH_FEATURES_FEATURE_COUNT', `${ptr}/featureCount`, `featureCount must be an integer >= 1, got ${featureCount}`);
    return;
  }
  if (fid.attribute !== undefined) checkFeatureIdAttribute(gltf, bin, prim, fid, ptr, issues);
  else if (fid.texture !== undefined) {
    issues.warning('MESH_FEATURES_TEXTURE_NOT_CHECKED', `${ptr}/texture`, 'feature ID textures are not checked');
  } else {
    // Implicit feature IDs are the vertex indices 0..vertexCount-1.
    const vertexCount = gltf.accessors?.[prim.attributes?.POSITION]?.count ?? 0;
    if (vertexCount > featureCount) {
      issues.error('MESH_FEATURES_ID_RANGE', ptr, `implicit feature IDs go up to ${vertexCount - 1} but featureCount is ${featureCount}`);
    }
  }
  if (fid.propertyTable !== undefined) checkFeatureIdTable(gltf, fid, ptr, issues);
}

function checkFeatureIdAttribute(gltf, bin, prim, fid, ptr, issues) {
  const semantic = `_FEATURE_ID_${fid.attribute}`;
  const accIndex = prim.attributes?.[semantic];
  const acc = gltf.accessors?.[accIndex];
  if (accIndex === undefined || !acc) {
    issues.error('MESH_FEATURES_ATTRIBUTE_MISSING', `${ptr}/attribute`, `primitive has no ${semantic} attribute (or its accessor does not exist)`);
    return;
  }
  const accPtr = `/accessors/${accIndex}`;
  let ok = true;
  if (acc.type !== 'SCALAR') {
    issues.error('MESH_FEATURES_ACCESSOR_TYPE', accPtr, `${semantic} accessor type must be SCALAR, got ${acc.type}`);
    ok = false;
  }
  if (!FEATURE_ID_COMPONENT_TYPES.has(acc.componentType)) {
    issues.error('MESH_FEATURES_ACCESSOR_TYPE', accPtr, `${semantic} componentType must be UNSIGNED_BYTE, UNSIGNED_SHORT or FLOAT, got ${acc.componentType}`);
    ok = false;
  }
  if (acc.normalized) {
    issues.error('MESH_FEATURES_ACCESSOR_TYPE', accPtr, `${semantic} accessor must not be normalized`);
    ok = false;
  }
  if (!ok) return;

  let values;
  try {
    values = readAccessor(gltf, bin, accIndex).data;
  } catch (e) {
    issues.error('MESH_FEATURES_ACCESSOR_READ', accPtr, `cannot read ${semantic}: ${e.message}`);
    return;
  }
  let bad = 0;
  let first = null;
  values.forEach((v, i) => {
    if (fid.nullFeatureId !== undefined && v === fid.nullFeatureId) return;
    if (Number.isInteger(v) && v >= 0 && v < fid.featureCount) return;
    bad++;
    first ??= `vertex ${i} has ${v}`;
  });
  if (bad > 0) {
    issues.error('MESH_FEATURES_ID_RANGE', accPtr,
      `${bad} ${semantic} value(s) not an integer in [0, ${fid.featureCount})` +
      `${fid.nullFeatureId !== undefined ? ` nor nullFeatureId ${fid.nullFeatureId}` : ''}; first: ${first}`);
  }
}

function checkFeatureIdTable(gltf, fid, ptr, issues) {
  const tables = gltf.extensions?.EXT_structural_metadata?.propertyTables;
  const table = tables?.[fid.propertyTable];
  if (!table) {
    issues.error('MESH_FEATURES_PROPERTY_TABLE', `${ptr}/propertyTable`,
      `propertyTable ${fid.propertyTable} does not exist in EXT_structural_metadata.propertyTables (${tables?.length ?? 0} tables)`);
    return;
  }
  if (table.count !== fid.featureCount) {
    issues.error('MESH_FEATURES_COUNT_MISMATCH', `${ptr}/featureCount`,
      `featureCount ${fid.featureCount} != propertyTables[${fid.propertyTable}].count ${table.count}`);
  }
}

// ---------------------------------------------------------------------------
// EXT_structural_metadata property tables

const COMPONENT_SIZES = { INT8: 1, UINT8: 1, INT16: 2, UINT16: 2, INT32: 4, UINT32: 4, INT64: 8, UINT64: 8, FLOAT32: 4, FLOAT64: 8 };
const TYPE_COMPONENTS = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT2: 4, MAT3: 9, MAT4: 16 };
const OFFSET_TYPES = { UINT8: 'getUint8', UINT16: 'getUint16', UINT32: 'getUint32', UINT64: 'getBigUint64' };

/** Checks EXT_structural_metadata: schema classes, property tables and their binary layout. */
export function checkStructuralMetadata(gltf, bin, issues) {
  const ext = gltf.extensions?.EXT_structural_metadata;
  if (!ext) return;
  const base = '/extensions/EXT_structural_metadata';
  const schema = ext.schema;
  if (!schema) {
    if (ext.schemaUri) issues.warning('METADATA_EXTERNAL_SCHEMA', `${base}/schemaUri`, 'external schemaUri is not checked');
    else issues.error('METADATA_NO_SCHEMA', base, 'neither schema nor schemaUri is defined');
    return;
  }
  (ext.propertyTables ?? []).forEach((table, t) => checkPropertyTable(gltf, bin, schema, table, `${base}/propertyTables/${t}`, issues));
}

function checkPropertyTable(gltf, bin, schema, table, ptr, issues) {
  const cls = schema.classes?.[table.class];
  if (!cls) {
    issues.error('METADATA_CLASS_MISSING', `${ptr}/class`, `class "${table.class}" is not defined in the schema`);
    return;
  }
  if (!Number.isInteger(table.count) || table.count < 1) {
    issues.error('METADATA_TABLE_COUNT', `${ptr}/count`, `count must be an integer >= 1, got ${table.count}`);
    return;
  }
  const props = table.properties ?? {};
  for (const [name, prop] of Object.entries(props)) {
    const def = cls.properties?.[name];
    const propPtr = `${ptr}/properties/${name}`;
    if (!def) issues.error('METADATA_PROPERTY_NOT_IN_CLASS', propPtr, `property "${name}" is not defined in class "${table.class}"`);
    else checkTableProperty(gltf, bin, schema, def, prop, table.count, propPtr, issues);
  }
  for (const [name, def] of Object.entries(cls.properties ?? {})) {
    if (def.required && !(name in props)) {
      issues.error('METADATA_REQUIRED_PROPERTY_MISSING', `${ptr}/properties`, `required property "${name}" of class "${table.class}" is missing`);
    }
  }
}

/** Reads `n` offsets of `type` from a buffer view; returns numbers, or null after reporting. */
function readOffsets(gltf, bin, viewIndex, type, n, ptr, issues) {
  const getter = OFFSET_TYPES[type];
  if (!getter) {
    issues.error('METADATA_OFFSET_TYPE', ptr, `unknown offset type ${type}`);
    return null;
  }
  const bytes = viewBytesOrReport(gltf, bin, viewIndex, ptr, issues);
  if (!bytes) return null;
  const size = COMPONENT_SIZES[type];
  const byteOffset = gltf.bufferViews[viewIndex].byteOffset ?? 0;
  if (byteOffset % size !== 0) issues.error('METADATA_ALIGNMENT', ptr, `offsets bufferView byteOffset ${byteOffset} is not a multiple of ${size}`);
  if (bytes.byteLength < n * size) {
    issues.error('METADATA_BUFFER_VIEW_LENGTH', ptr, `offsets bufferView has ${bytes.byteLength} bytes, need ${n} x ${size} = ${n * size}`);
    return null;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets = [];
  for (let i = 0; i < n; i++) offsets.push(Number(dv[getter](i * size, true)));
  for (let i = 1; i < n; i++) {
    if (offsets[i] < offsets[i - 1]) {
      issues.error('METADATA_OFFSETS_NOT_MONOTONIC', ptr, `offset[${i}] = ${offsets[i]} < offset[${i - 1}] = ${offsets[i - 1]}`);
      return null;
    }
  }
  return offsets;
}

function viewBytesOrReport(gltf, bin, viewIndex, ptr, issues) {
  try {
    return bufferViewBytes(gltf, bin, viewIndex);
  } catch (e) {
    issues.error('METADATA_BUFFER_VIEW', ptr, e.message);
    return null;
  }
}

/** Number of elements stored for the property: count, count × array count, or from arrayOffsets. */
function elementCount(gltf, bin, def, prop, count, ptr, issues) {
  if (!def.array) return count;
  if (def.count !== undefined) return count * def.count;
  if (prop.arrayOffsets === undefined) {
    issues.error('METADATA_ARRAY_OFFSETS_MISSING', ptr, 'variable-length array property needs arrayOffsets');
    return null;
  }
  const offsets = readOffsets(gltf, bin, prop.arrayOffsets, prop.arrayOffsetType ?? 'UINT32', count + 1, `${ptr}/arrayOffsets`, issues);
  return offsets ? offsets[count] : null;
}

function checkTableProperty(gltf, bin, schema, def, prop, count, ptr, issues) {
  const values = viewBytesOrReport(gltf, bin, prop.values, `${ptr}/values`, issues);
  if (!values) return;
  const byteOffset = gltf.bufferViews[prop.values].byteOffset ?? 0;
  if (byteOffset % 8 !== 0) {
    issues.error('METADATA_ALIGNMENT', `${ptr}/values`, `values bufferView ${prop.values} byteOffset ${byteOffset} is not a multiple of 8`);
  }
  const elements = elementCount(gltf, bin, def, prop, count, ptr, issues);
  if (elements === null) return;

  if (def.type === 'STRING') return checkStrings(gltf, bin, prop, values, elements, ptr, issues);
  if (def.type === 'BOOLEAN') return checkLength(values, Math.ceil(elements / 8), `${elements} bits`, ptr, issues);
  if (def.type === 'ENUM') return checkEnum(schema, def, values, elements, ptr, issues);

  const components = TYPE_COMPONENTS[def.type];
  const size = COMPONENT_SIZES[def.componentType];
  if (!components || !size) {
    issues.error('METADATA_PROPERTY_TYPE', ptr, `unsupported type/componentType ${def.type}/${def.componentType}`);
    return;
  }
  const n = elements * components;
  if (!checkLength(values, n * size, `${n} x ${def.componentType}`, ptr, issues)) return;
  if (def.componentType === 'FLOAT32' || def.componentType === 'FLOAT64') checkNoNaN(values, def.componentType, n, ptr, issues);
}

/** byteLength must hold `need` bytes; extra bytes are only a warning (padding belongs between views). */
function checkLength(values, need, what, ptr, issues) {
  if (values.byteLength < need) {
    issues.error('METADATA_BUFFER_VIEW_LENGTH', `${ptr}/values`, `values bufferView has ${values.byteLength} bytes, need ${need} (${what})`);
    return false;
  }
  if (values.byteLength > need) {
    issues.warning('METADATA_BUFFER_VIEW_LENGTH', `${ptr}/values`, `values bufferView has ${values.byteLength} bytes, only ${need} used (${what})`);
  }
  return true;
}

function checkNoNaN(values, componentType, n, ptr, issues) {
  const dv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const f64 = componentType === 'FLOAT64';
  let nan = 0;
  let first = -1;
  for (let i = 0; i < n; i++) {
    const v = f64 ? dv.getFloat64(i * 8, true) : dv.getFloat32(i * 4, true);
    if (Number.isNaN(v)) {
      nan++;
      if (first < 0) first = i;
    }
  }
  if (nan) issues.error('METADATA_NAN', `${ptr}/values`, `${nan} NaN value(s) in ${componentType} property; first at element ${first}`);
}

function checkStrings(gltf, bin, prop, values, elements, ptr, issues) {
  if (prop.stringOffsets === undefined) {
    issues.error('METADATA_STRING_OFFSETS_MISSING', ptr, 'STRING property needs stringOffsets');
    return;
  }
  const offsets = readOffsets(gltf, bin, prop.stringOffsets, prop.stringOffsetType ?? 'UINT32', elements + 1, `${ptr}/stringOffsets`, issues);
  if (!offsets) return;
  const last = offsets[elements];
  if (last !== values.byteLength) {
    issues.error('METADATA_STRING_OFFSETS_END', `${ptr}/stringOffsets`, `last string offset ${last} != values byteLength ${values.byteLength}`);
    return;
  }
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < elements; i++) {
    try {
      decoder.decode(values.subarray(offsets[i], offsets[i + 1]));
    } catch {
      issues.error('METADATA_STRING_UTF8', `${ptr}/values`, `string ${i} is not valid UTF-8`);
      return;
    }
  }
}

function checkEnum(schema, def, values, elements, ptr, issues) {
  const en = schema.enums?.[def.enumType];
  if (!en) {
    issues.error('METADATA_ENUM_MISSING', ptr, `enumType "${def.enumType}" is not defined in the schema`);
    return;
  }
  const valueType = en.valueType ?? 'UINT16';
  const size = COMPONENT_SIZES[valueType];
  if (!checkLength(values, elements * size, `${elements} x ${valueType}`, ptr, issues)) return;
  const allowed = new Set((en.values ?? []).map((v) => BigInt(v.value)));
  const dv = new DataView(values.buffer, values.byteOffset, values.byteLength);
  const getter = { INT8: 'getInt8', UINT8: 'getUint8', INT16: 'getInt16', UINT16: 'getUint16', INT32: 'getInt32', UINT32: 'getUint32', INT64: 'getBigInt64', UINT64: 'getBigUint64' }[valueType];
  for (let i = 0; i < elements; i++) {
    const v = BigInt(dv[getter](i * size, true));
    if (!allowed.has(v)) {
      issues.error('METADATA_ENUM_VALUE', `${ptr}/values`, `element ${i} has value ${v}, not a value of enum "${def.enumType}"`);
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// Per-file driver

/** Validates the GLB at `filePath`; returns { path, errors, warnings, messages }. */
export async function validateGlbFile(filePath) {
  const bytes = new Uint8Array(await fsp.readFile(filePath));
  return validateGlbBytes(bytes, filePath);
}

/** Same as validateGlbFile for bytes already in memory. */
export async function validateGlbBytes(bytes, label = 'input.glb') {
  const messages = [];
  try {
    messages.push(...(await runKhronos(bytes, path.basename(label))));
  } catch (e) {
    messages.push({ severity: 'error', source: 'khronos', code: 'VALIDATOR_FAILED', pointer: '', message: String(e) });
  }
  const issues = new Issues();
  try {
    const { json, bin } = parseGlb(bytes);
    checkMeshFeatures(json, bin, issues);
    checkStructuralMetadata(json, bin, issues);
  } catch (e) {
    issues.error('GLB_PARSE', '', `cannot check EXT_mesh_features/EXT_structural_metadata: ${e.message}`);
  }
  messages.push(...issues.messages);
  return {
    path: label,
    errors: messages.filter((m) => m.severity === 'error').length,
    warnings: messages.filter((m) => m.severity === 'warning').length,
    messages,
  };
}

/** Expands files and directories (recursively) into a sorted list of .glb paths. Throws on missing paths. */
export function collectGlbs(inputs) {
  const out = [];
  const walk = (p) => {
    const st = fs.statSync(p);
    if (st.isDirectory()) {
      for (const e of fs.readdirSync(p).sort()) {
        const child = path.join(p, e);
        if (fs.statSync(child).isDirectory() || e.toLowerCase().endsWith('.glb')) walk(child);
      }
    } else out.push(p);
  };
  for (const input of inputs) walk(input);
  return out;
}

// ---------------------------------------------------------------------------
// CLI

function formatResult(r, verbose) {
  const lines = [`${r.path}: ${r.errors} errors, ${r.warnings} warnings`];
  for (const m of r.messages) {
    if (m.severity === 'error' || (verbose && m.severity === 'warning')) {
      lines.push(`  ${m.severity.toUpperCase()} [${m.source}] ${m.code} ${m.pointer || '/'}: ${m.message}`);
    }
  }
  return lines.join('\n');
}

const USAGE = `usage: node validate-glb.mjs [--json] [--verbose] FILE_OR_DIR...
  Validates every .glb (directories searched recursively): Khronos glTF validator
  + EXT_mesh_features / EXT_structural_metadata checks.
  --json     print a JSON summary instead of text
  --verbose  also print warnings
  exit code: 0 no errors, 1 errors found, 2 usage error`;

async function main(argv) {
  const opts = { json: false, verbose: false };
  const inputs = [];
  for (const a of argv) {
    if (a === '--json') opts.json = true;
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '-h' || a === '--help') return console.log(USAGE), 0;
    else if (a.startsWith('--')) return console.error(`unknown option ${a}\n${USAGE}`), 2;
    else inputs.push(a);
  }
  if (inputs.length === 0) return console.error(USAGE), 2;
  let files;
  try {
    files = collectGlbs(inputs);
  } catch (e) {
    console.error(`error: ${e.message}`);
    return 2;
  }
  if (files.length === 0) {
    console.error(`error: no .glb files found in ${inputs.join(' ')}`);
    return 2;
  }
  const results = [];
  for (const f of files) {
    const r = await validateGlbFile(f);
    results.push(r);
    if (!opts.json) console.log(formatResult(r, opts.verbose));
  }
  const failed = results.filter((r) => r.errors > 0).length;
  if (opts.json) {
    const summary = { files: results.length, failed, errors: results.reduce((s, r) => s + r.errors, 0), results };
    console.log(JSON.stringify(summary, null, 2));
  } else if (results.length > 1) {
    console.log(`${results.length} files, ${failed} with errors`);
  }
  return failed ? 1 : 0;
}

const isMain = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
if (isMain) process.exitCode = await main(process.argv.slice(2));
