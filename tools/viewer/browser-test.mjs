#!/usr/bin/env node
// Browser test of the citytiler viewer: headless Debian Chromium (SwiftShader, no GPU)
// driven by playwright-core loads a tileset in the viewer page and checks that
//   1. the page loads with no page errors, no tile failures and no request to any
//      origin other than the local server (all others are blocked);
//   2. all tiles load (tilesLoaded stays true for a moment after the camera flight);
//   3. something is drawn: a frame with the tileset and one without it differ in
//      enough pixels; a screenshot is saved;
//   4. picking near the screen centre hits a building whose `id` is one of the input
//      ids (the footprints named in the pipeline, read with ogr2ogr) and one of the
//      tileset's GLB property-table ids; its attributes (every property of the GLB's
//      property table, e.g. ground_z, roof_z, height_source) come back with the values
//      stored in the GLB, roof_z/ground_z numeric; the picked point lies on that
//      building's input footprint (within a tolerance);
//   5. a real mouse click at that point shows the same id and attributes in the
//      side panel.
// With --pick-asset (a pipeline with readers.assets, assets in the same tileset), also
//   6. for one asset of each symbol (EXT_mesh_gpu_instancing node) of the tileset's
//      asset GLBs, the camera is put ~35 m from the instance's centre (its world
//      position computed here from the tile transforms, the node matrices, the
//      instance TRS and the symbol mesh's bounds), the point is projected to the
//      screen (SceneTransforms.worldToWindowCoordinates) and picked: the hit must be
//      of class "asset", be that very asset (its id is one of the input asset ids,
//      read with ogr2ogr from the pipeline's readers.assets sources), and return
//      every attribute of its GLB property-table row (type_en/category, z_source,
//      clamp_flag, ground_z, ...); a mouse click shows it in the side panel
//      (screenshot viewer-asset.png).
//
// usage: node browser-test.mjs --url http://127.0.0.1:PORT/ --tileset DIR
//          --pipeline PIPELINE.json --out DIR [--timeout SECONDS] [--pick-asset]
// Exit 0 when every check passes, 1 otherwise (each failure printed as "FAIL: ...").

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CT_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
  '--ignore-gpu-blocklist',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const VIEWPORT = { width: 1280, height: 720 };

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const a = { timeout: 100, 'pick-asset': false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--pick-asset') a['pick-asset'] = true;
    else if (['--url', '--tileset', '--pipeline', '--out', '--timeout'].includes(k) && v !== undefined) {
      a[k.slice(2)] = k === '--timeout' ? Number(v) : v;
      i++;
    } else {
      console.error(`browser-test.mjs: bad argument ${k}`);
      process.exit(2);
    }
  }
  for (const k of ['url', 'tileset', 'pipeline', 'out']) {
    if (!a[k]) {
      console.error(`usage: node browser-test.mjs --url URL --tileset DIR --pipeline PIPELINE.json --out DIR [--timeout S] [--pick-asset]`);
      process.exit(2);
    }
  }
  return a;
}

const args = parseArgs(process.argv.slice(2));
const started = Date.now();
const deadline = started + args.timeout * 1000;
const remaining = () => Math.max(1000, deadline - Date.now());
const elapsed = () => ((Date.now() - started) / 1000).toFixed(1);

let passed = 0;
let failed = 0;
function ok(what) {
  passed++;
  console.log(`ok: ${what}`);
}
function fail(what) {
  failed++;
  console.log(`FAIL: ${what}`);
}
function check(what, cond, detail = '') {
  if (cond) ok(what);
  else fail(detail ? `${what}: ${detail}` : what);
  return cond;
}
function fatal(what) {
  console.log(`FAIL: ${what}`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
}

// ---------------------------------------------------------------- expected data

/** Every feature's property-table row from the tileset's GLBs: Map id -> [{file, properties}]. */
function readGlbRows(dir) {
  const rows = new Map();
  const files = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.glb')) files.push(p);
    }
  };
  walk(dir);
  files.sort();
  const notes = new Set();
  for (const file of files) {
    const { json, bin } = parseGlb(fs.readFileSync(file));
    const meta = json.extensions?.EXT_structural_metadata;
    if (!meta?.propertyTables) continue;
    const classes = meta.schema?.classes ?? {};
    const enums = meta.schema?.enums ?? {};
    for (const table of meta.propertyTables) {
      const cls = classes[table.class]?.properties ?? {};
      const columns = {};
      for (const [name, prop] of Object.entries(table.properties ?? {})) {
        try {
          columns[name] = readColumn(json, bin, cls[name], prop, table.count, enums);
        } catch (e) {
          notes.add(`${name}: ${e.message}`);
        }
      }
      if (!columns.id) continue;
      for (let i = 0; i < table.count; i++) {
        const properties = {};
        for (const [name, col] of Object.entries(columns)) properties[name] = col[i];
        const id = String(properties.id);
        if (!rows.has(id)) rows.set(id, []);
        rows.get(id).push({ file: path.relative(dir, file), className: table.class, properties });
      }
    }
  }
  return { rows, files, notes: [...notes] };
}

function parseGlb(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 20 || dv.getUint32(0, true) !== 0x46546c67) throw new Error('not a GLB');
  let json = null;
  let bin = null;
  const length = Math.min(dv.getUint32(8, true), bytes.byteLength);
  for (let off = 12; off + 8 <= length; ) {
    const len = dv.getUint32(off, true);
    const type = dv.getUint32(off + 4, true);
    const data = bytes.subarray(off + 8, off + 8 + len);
    if (type === 0x4e4f534a && !json) json = JSON.parse(new TextDecoder().decode(data));
    else if (type === 0x004e4942 && !bin) bin = data;
    off += 8 + len;
  }
  return { json, bin };
}

function viewBytes(json, bin, index) {
  const view = json.bufferViews[index];
  if (view.extensions?.EXT_meshopt_compression) throw new Error('meshopt-compressed property table not read here');
  if (json.buffers[view.buffer].uri !== undefined || view.buffer !== 0) throw new Error('external buffer');
  const start = view.byteOffset ?? 0;
  return bin.subarray(start, start + view.byteLength);
}

const COMPONENT = {
  INT8: [1, 'getInt8'], UINT8: [1, 'getUint8'], INT16: [2, 'getInt16'], UINT16: [2, 'getUint16'],
  INT32: [4, 'getInt32'], UINT32: [4, 'getUint32'], INT64: [8, 'getBigInt64'], UINT64: [8, 'getBigUint64'],
  FLOAT32: [4, 'getFloat32'], FLOAT64: [8, 'getFloat64'],
};
const TYPE_SIZE = { SCALAR: 1, VEC2: 2, VEC3: 3, VEC4: 4, MAT2: 4, MAT3: 9, MAT4: 16 };

/** Decodes one property-table column into an array of `count` plain values. */
function readColumn(json, bin, classProp, prop, count, enums) {
  if (!classProp) throw new Error('not in the schema class');
  const bytes = viewBytes(json, bin, prop.values);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const offsets = (viewIndex, type) => {
    const [size, getter] = COMPONENT[type ?? 'UINT32'];
    const b = viewBytes(json, bin, viewIndex);
    const d = new DataView(b.buffer, b.byteOffset, b.byteLength);
    return (i) => Number(d[getter](i * size, true));
  };
  const arrayOffset = classProp.array && !classProp.count ? offsets(prop.arrayOffsets, prop.arrayOffsetType) : null;
  const stringOffset = classProp.type === 'STRING' ? offsets(prop.stringOffsets, prop.stringOffsetType) : null;
  const decoder = new TextDecoder();
  const out = [];
  if (classProp.type === 'STRING') {
    for (let i = 0; i < count; i++) {
      if (classProp.array) throw new Error('string arrays not compared');
      out.push(decoder.decode(bytes.subarray(stringOffset(i), stringOffset(i + 1))));
    }
    return out;
  }
  if (classProp.type === 'BOOLEAN') {
    if (classProp.array) throw new Error('boolean arrays not compared');
    for (let i = 0; i < count; i++) out.push(((bytes[i >> 3] >> (i & 7)) & 1) === 1);
    return out;
  }
  let componentType = classProp.componentType;
  let enumValues = null;
  if (classProp.type === 'ENUM') {
    const e = enums[classProp.enumType];
    componentType = e?.valueType ?? 'UINT16';
    enumValues = new Map((e?.values ?? []).map((v) => [v.value, v.name]));
  }
  const n = TYPE_SIZE[classProp.type];
  if (!n || !COMPONENT[componentType]) throw new Error(`type ${classProp.type}/${componentType} not compared`);
  if (classProp.normalized || prop.offset !== undefined || prop.scale !== undefined ||
      classProp.offset !== undefined || classProp.scale !== undefined || classProp.noData !== undefined) {
    throw new Error('normalized/offset/scale/noData properties not compared');
  }
  const [size, getter] = COMPONENT[componentType];
  const element = (k) => {
    const v = dv[getter](k * size, true);
    return enumValues ? enumValues.get(Number(v)) : v;
  };
  for (let i = 0; i < count; i++) {
    if (classProp.array) throw new Error('array properties not compared');
    if (n === 1) out.push(element(i));
    else out.push(Array.from({ length: n }, (_, j) => element(i * n + j)));
  }
  return out;
}

/** Input footprints of the pipeline's readers.footprints stage: Map id -> [[lon, lat]...] rings. */
function readInputFootprints(pipelineFile) {
  const pipeline = JSON.parse(fs.readFileSync(pipelineFile, 'utf8'));
  const stage = (pipeline.pipeline ?? []).find((s) => s.type === 'readers.footprints');
  if (!stage) throw new Error(`${pipelineFile}: no readers.footprints stage`);
  const src = path.resolve(path.dirname(pipelineFile), stage.path);
  const idField = stage.id_field;
  const ogrArgs = ['-f', 'GeoJSON', '-t_srs', 'EPSG:4326', '-lco', 'COORDINATE_PRECISION=9', '/vsistdout/', src];
  if (stage.layer) ogrArgs.push(stage.layer);
  if (idField) ogrArgs.push('-select', idField);
  let text;
  try {
    text = execFileSync('ogr2ogr', ogrArgs, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    throw new Error(`ogr2ogr ${ogrArgs.join(' ')} failed (gdal-bin from tools/install-deps.sh): ${e.message}`);
  }
  const fc = JSON.parse(text);
  const footprints = new Map();
  fc.features.forEach((f, i) => {
    // Without id_field the id is the feature's FID (citytiler's documented fallback).
    const id = idField ? f.properties?.[idField] : f.id ?? i;
    if (id === undefined || id === null) return;
    const g = f.geometry;
    const polys = !g ? [] : g.type === 'Polygon' ? [g.coordinates] : g.type === 'MultiPolygon' ? g.coordinates : [];
    footprints.set(String(id), polys);
  });
  return { footprints, source: src, idField };
}

/** Distance in metres from (lon, lat) to a polygon set; 0 inside. Local equirectangular metres. */
function distanceToFootprint(polys, lon, lat) {
  const R = 6378137;
  const kx = (Math.PI / 180) * R * Math.cos((lat * Math.PI) / 180);
  const ky = (Math.PI / 180) * R;
  let best = Infinity;
  for (const rings of polys) {
    let inside = false;
    let edge = Infinity;
    rings.forEach((ring, r) => {
      let crossings = 0;
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const ax = (ring[j][0] - lon) * kx, ay = (ring[j][1] - lat) * ky;
        const bx = (ring[i][0] - lon) * kx, by = (ring[i][1] - lat) * ky;
        if ((ay > 0) !== (by > 0) && ax + ((0 - ay) * (bx - ax)) / (by - ay) > 0) crossings++;
        const dx = bx - ax, dy = by - ay;
        const len2 = dx * dx + dy * dy;
        const t = len2 > 0 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2)) : 0;
        edge = Math.min(edge, Math.hypot(ax + t * dx, ay + t * dy));
      }
      const odd = crossings % 2 === 1;
      if (r === 0) inside = odd;
      else if (odd) inside = false; // in a hole
    });
    best = Math.min(best, inside ? 0 : edge);
  }
  return best;
}

function sameValue(expected, got) {
  if (got === undefined || got === null) return false;
  const v = got.value;
  if (typeof expected === 'bigint') {
    if (got.type === 'bigint') return BigInt(v) === expected;
    if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) === expected : v === Number(expected);
    return false;
  }
  if (typeof expected === 'number') {
    if (typeof v !== 'number') return false;
    if (Number.isNaN(expected)) return Number.isNaN(v);
    return v === expected || Math.abs(v - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
  }
  if (Array.isArray(expected)) {
    return Array.isArray(v) && v.length === expected.length &&
      expected.every((e, i) => sameValue(e, { type: typeof v[i], value: v[i] }));
  }
  return v === expected;
}

const show = (x) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));

// ---------------------------------------------------------------- assets (instanced symbols)

const mat = {
  identity: () => [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1],
  multiply(a, b) {
    const r = new Array(16);
    for (let c = 0; c < 4; c++) {
      for (let row = 0; row < 4; row++) {
        let v = 0;
        for (let k = 0; k < 4; k++) v += a[k * 4 + row] * b[c * 4 + k];
        r[c * 4 + row] = v;
      }
    }
    return r;
  },
  apply: (m, [x, y, z]) => [
    m[0] * x + m[4] * y + m[8] * z + m[12],
    m[1] * x + m[5] * y + m[9] * z + m[13],
    m[2] * x + m[6] * y + m[10] * z + m[14],
  ],
  trs(t = [0, 0, 0], q = [0, 0, 0, 1], s = [1, 1, 1]) {
    const [x, y, z, w] = q;
    return [
      (1 - 2 * (y * y + z * z)) * s[0], 2 * (x * y + w * z) * s[0], 2 * (x * z - w * y) * s[0], 0,
      2 * (x * y - w * z) * s[1], (1 - 2 * (x * x + z * z)) * s[1], 2 * (y * z + w * x) * s[1], 0,
      2 * (x * z + w * y) * s[2], 2 * (y * z - w * x) * s[2], (1 - 2 * (x * x + y * y)) * s[2], 0,
      t[0], t[1], t[2], 1,
    ];
  },
  node: (n) => (Array.isArray(n.matrix) ? n.matrix.slice() : mat.trs(n.translation, n.rotation, n.scale)),
};
// glTF y-up -> 3D Tiles z-up, applied by the runtime to every glTF content.
const Y_UP_TO_Z_UP = [1, 0, 0, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1];
const GL_COMPONENT = { 5120: 'INT8', 5121: 'UINT8', 5122: 'INT16', 5123: 'UINT16', 5125: 'UINT32', 5126: 'FLOAT32' };

/** Accessor `index` as an array of count elements (arrays of n components when n > 1). */
function readAccessorValues(json, bin, index) {
  const acc = json.accessors[index];
  const n = TYPE_SIZE[acc.type];
  const [size, getter] = COMPONENT[GL_COMPONENT[acc.componentType]];
  const bytes = viewBytes(json, bin, acc.bufferView);
  const stride = json.bufferViews[acc.bufferView].byteStride || size * n;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + (acc.byteOffset ?? 0));
  const max = { INT8: 127, UINT8: 255, INT16: 32767, UINT16: 65535 }[GL_COMPONENT[acc.componentType]];
  const out = [];
  for (let i = 0; i < acc.count; i++) {
    const e = [];
    for (let c = 0; c < n; c++) {
      let v = dv[getter](i * stride + c * size, true);
      if (acc.normalized && max) v = Math.max(v / max, -1);
      e.push(v);
    }
    out.push(n === 1 ? e[0] : e);
  }
  return out;
}

/**
 * Every instance of every EXT_mesh_gpu_instancing node in the tileset's contents (tile
 * transforms accumulated, external tilesets followed): [{file, node, symbol, table,
 * featureId, row: {property: value}, base: ECEF, centre: ECEF (box centre),
 * surface: ECEF (the vertex nearest the box centre), size}].
 */
function readAssetInstances(dir, tilesetName = 'tileset.json') {
  const instances = [];
  const visitTileset = (file) => {
    const ts = JSON.parse(fs.readFileSync(file, 'utf8'));
    const base = path.dirname(file);
    const walk = (tile, parent) => {
      const m = tile.transform ? mat.multiply(parent, tile.transform) : parent;
      const contents = tile.content ? [tile.content] : tile.contents ?? [];
      for (const c of contents) {
        const uri = c.uri ?? c.url;
        if (!uri) continue;
        const p = path.join(base, decodeURIComponent(uri));
        if (p.endsWith('.json')) visitTileset(p);
        else if (p.endsWith('.glb')) glbInstances(p, m);
      }
      for (const child of tile.children ?? []) walk(child, m);
    };
    walk(ts.root, mat.identity());
  };
  const glbInstances = (file, tileMatrix) => {
    const { json, bin } = parseGlb(fs.readFileSync(file));
    const meta = json.extensions?.EXT_structural_metadata;
    const classes = meta?.schema?.classes ?? {};
    const tables = (meta?.propertyTables ?? []).map((table) => {
      const cls = classes[table.class]?.properties ?? {};
      const columns = {};
      for (const [name, prop] of Object.entries(table.properties ?? {})) {
        try {
          columns[name] = readColumn(json, bin, cls[name], prop, table.count, meta.schema?.enums ?? {});
        } catch {
          /* not compared */
        }
      }
      return { className: table.class, count: table.count, columns };
    });
    const root = mat.multiply(tileMatrix, Y_UP_TO_Z_UP);
    const nodes = json.nodes ?? [];
    const visit = (i, parent) => {
      const node = nodes[i];
      const world = mat.multiply(parent, mat.node(node));
      const gi = node.extensions?.EXT_mesh_gpu_instancing;
      if (gi && node.mesh !== undefined) {
        const a = gi.attributes ?? {};
        const t = a.TRANSLATION !== undefined ? readAccessorValues(json, bin, a.TRANSLATION) : null;
        const r = a.ROTATION !== undefined ? readAccessorValues(json, bin, a.ROTATION) : null;
        const sc = a.SCALE !== undefined ? readAccessorValues(json, bin, a.SCALE) : null;
        const count = (t ?? r ?? sc ?? []).length;
        const fidSet = node.extensions?.EXT_instance_features?.featureIds?.[0];
        const fids = fidSet && fidSet.attribute !== undefined && a[`_FEATURE_ID_${fidSet.attribute}`] !== undefined
          ? readAccessorValues(json, bin, a[`_FEATURE_ID_${fidSet.attribute}`]) : null;
        // Symbol bounds (mesh frame): the union of its primitives' POSITION min/max.
        const lo = [Infinity, Infinity, Infinity];
        const hi = [-Infinity, -Infinity, -Infinity];
        for (const prim of json.meshes[node.mesh].primitives) {
          const acc = json.accessors[prim.attributes.POSITION];
          for (let k = 0; k < 3; k++) {
            lo[k] = Math.min(lo[k], acc.min?.[k] ?? 0);
            hi[k] = Math.max(hi[k], acc.max?.[k] ?? 0);
          }
        }
        const mid = lo.map((v, k) => (v + hi[k]) / 2);
        // The vertex nearest the box centre: on the symbol's surface even when the box
        // centre is in the air (a street light whose pole is off-centre, under its arm).
        let surface = mid;
        let best = Infinity;
        for (const prim of json.meshes[node.mesh].primitives) {
          for (const v of readAccessorValues(json, bin, prim.attributes.POSITION)) {
            const d = Math.hypot(v[0] - mid[0], v[1] - mid[1], v[2] - mid[2]);
            if (d < best) {
              best = d;
              surface = v;
            }
          }
        }
        const table = fidSet?.propertyTable !== undefined ? tables[fidSet.propertyTable] : null;
        for (let k = 0; k < count; k++) {
          const m = mat.multiply(world, mat.trs(t?.[k], r?.[k], sc?.[k]));
          const featureId = fids ? fids[k] : k;
          const row = {};
          if (table) for (const [name, col] of Object.entries(table.columns)) row[name] = col[featureId];
          instances.push({
            file: path.relative(dir, file), node: i, symbol: node.name ?? `node ${i}`,
            table: fidSet?.propertyTable ?? null, className: table?.className ?? null, featureId, row,
            base: mat.apply(m, [0, 0, 0]), centre: mat.apply(m, mid), surface: mat.apply(m, surface),
            size: ecefDistance(mat.apply(m, lo), mat.apply(m, hi)), // the symbol's bounding-box diagonal
          });
        }
      }
      for (const c of node.children ?? []) visit(c, world);
    };
    const scene = json.scenes?.[json.scene ?? 0];
    for (const i of scene ? scene.nodes ?? [] : nodes.map((_, i) => i)) visit(i, root);
  };
  visitTileset(path.join(dir, tilesetName));
  return instances;
}

/** Input asset ids of the pipeline's readers.assets stages (read with ogr2ogr). */
function readInputAssetIds(pipelineFile) {
  const pipeline = JSON.parse(fs.readFileSync(pipelineFile, 'utf8'));
  const stages = (pipeline.pipeline ?? []).filter((s) => s.type === 'readers.assets');
  if (stages.length === 0) throw new Error(`${pipelineFile}: no readers.assets stage`);
  const ids = new Set();
  const sources = [];
  for (const stage of stages) {
    const src = path.resolve(path.dirname(pipelineFile), stage.path);
    sources.push(path.basename(src));
    const ogrArgs = ['-f', 'GeoJSON', '/vsistdout/', src];
    if (stage.layer) ogrArgs.push(stage.layer);
    let text;
    try {
      text = execFileSync('ogr2ogr', ogrArgs, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`ogr2ogr ${ogrArgs.join(' ')} failed: ${e.message}`);
    }
    JSON.parse(text).features.forEach((f, i) => {
      // citytiler: id_field, else a field named "id", else the feature id.
      const id = stage.id_field ? f.properties?.[stage.id_field] : f.properties?.id ?? f.id ?? i;
      if (id !== undefined && id !== null) ids.add(String(id));
    });
  }
  return { ids, sources };
}

function ecefDistance(a, b) {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

function geodeticToEcef(lonDeg, latDeg, h) {
  const a = 6378137.0;
  const f = 1 / 298.257223563;
  const e2 = f * (2 - f);
  const lon = (lonDeg * Math.PI) / 180;
  const lat = (latDeg * Math.PI) / 180;
  const n = a / Math.sqrt(1 - e2 * Math.sin(lat) ** 2);
  return [(n + h) * Math.cos(lat) * Math.cos(lon), (n + h) * Math.cos(lat) * Math.sin(lon), (n * (1 - e2) + h) * Math.sin(lat)];
}

/** The asset phase (--pick-asset): one asset per symbol, aimed at, picked, compared. */
async function pickAssets(page) {
  let instances;
  let input;
  try {
    instances = readAssetInstances(args.tileset);
    input = readInputAssetIds(args.pipeline);
  } catch (e) {
    fail(`asset instances / input asset ids read: ${e.message}`);
    return;
  }
  check(`asset instances read from the tileset (${instances.length} in ${new Set(instances.map((i) => i.file)).size} GLBs)`,
    instances.length > 0);
  check(`input asset ids read (${input.ids.size} from ${input.sources.join(', ')})`, input.ids.size > 0);
  if (instances.length === 0) return;
  // One candidate per symbol node name (street_light, tree, ...): the first, in file order,
  // that was clamped on the LiDAR ground without a flag; the others as fallbacks.
  const bySymbol = new Map();
  for (const inst of instances) {
    if (!bySymbol.has(inst.symbol)) bySymbol.set(inst.symbol, []);
    bySymbol.get(inst.symbol).push(inst);
  }
  const box = await page.locator('#cesiumContainer canvas').first().boundingBox();
  const size = await page.evaluate(() => window.citytiler.canvasSize());
  let clicked = false;
  for (const [symbol, list] of bySymbol) {
    list.sort((a, b) => (a.row.clamp_flag === '' ? 0 : 1) - (b.row.clamp_flag === '' ? 0 : 1));
    let hit = null;
    let aimed = null;
    let wrong = null;
    // From above the roofs first (steep), then obliquely, from four sides.
    const views = [[20, -60], [110, -60], [200, -60], [290, -60], [20, -25], [200, -25]];
    const tries = list.slice(0, 3).flatMap((inst) => views.map(([heading, pitch]) => ({ inst, heading, pitch })));
    for (const { inst, heading, pitch } of tries) {
      const range = Math.max(25, inst.size * 4);
      await page.evaluate(([c, r, h, p]) => window.citytiler.lookAt(c[0], c[1], c[2], r, h, p), [inst.centre, range, heading, pitch]);
      // Wait for the tiles of the new view.
      let since = null;
      const until = Math.min(deadline - 10000, Date.now() + 20000);
      while (Date.now() < until) {
        await page.evaluate(() => window.citytiler.render());
        if (await page.evaluate(() => window.citytiler.tilesLoaded())) {
          since ??= Date.now();
          if (Date.now() - since >= 500) break;
        } else since = null;
        await page.waitForTimeout(50);
      }
      const spots = [];
      // The box centre, then a point on the surface: the box centre of a street light
      // whose arm shifts its box (origin "model") is in the air, and a neighbour may be
      // behind it; only the asset aimed at counts as a hit.
      for (const aim of [inst.centre, inst.surface]) {
        const px = await page.evaluate((c) => window.citytiler.worldToWindow(c[0], c[1], c[2]), aim);
        if (!px || px.x < 0 || px.y < 0 || px.x >= size.width || px.y >= size.height) continue;
        for (const [dx, dy] of [[0, 0], [0, -4], [0, 4], [-3, 0], [3, 0], [0, -8], [0, 8]]) spots.push([px.x + dx, px.y + dy]);
      }
      for (const [sx, sy] of spots) {
        const x = Math.round(sx);
        const y = Math.round(sy);
        const info = await page.evaluate(([a, b]) => window.citytiler.pickAt(a, b), [x, y]);
        if (!info) continue;
        if (String(info.id) === String(inst.row.id)) { /* the asset aimed at, not a neighbour */
          hit = { x, y, info };
          aimed = inst;
          break;
        }
        wrong ??= { x, y, info };
      }
      if (hit) break;
    }
    if (!check(`${symbol}: an asset picked where one was aimed at`, hit,
      wrong ? `hit ${wrong.info.className ?? '?'} ${wrong.info.id} instead` : 'nothing hit at the projected points')) {
      const miss = path.join(args.out, `viewer-asset-miss-${symbol}.png`);
      await page.evaluate(() => window.citytiler.render());
      await page.screenshot({ path: miss, timeout: Math.min(30000, remaining()) });
      console.log(`screenshot of the last view aimed at: ${miss} (aimed at ${show(list[0].centre)}, ${list[0].file})`);
      continue;
    }
    const { info } = hit;
    console.log(`picked ${symbol} at ${hit.x},${hit.y}: ${show(info)}`);
    console.log(`aimed at: ${aimed.file} node ${aimed.node} (${aimed.symbol}) property table ${aimed.table} feature ${aimed.featureId} id ${aimed.row.id}`);
    check(`${symbol}: hit is of class "asset" (property table ${info.propertyTable}${info.instanced ? ', instanced content' : ''})`,
      info.className === 'asset', `class ${info.className}`);
    check(`${symbol}: picked id ${info.id} is one of the ${input.ids.size} input asset ids`, input.ids.has(String(info.id)));
    check(`${symbol}: picked id ${info.id} is the asset aimed at (${aimed.row.id}, ${aimed.file} property table ${aimed.table} row ${aimed.featureId})`,
      String(info.id) === String(aimed.row.id),
      `CesiumJS returned property table ${info.propertyTable} row ${info.featureId}`);
    const category = info.properties.type_en ?? info.properties.category;
    check(`${symbol}: category attribute present (${category ? category.value : 'missing'})`,
      category && typeof category.value === 'string' && category.value.length > 0);
    check(`${symbol}: z_source present (${info.properties.z_source?.value})`,
      ['explicit', 'roof', 'lidar', 'fallback'].includes(info.properties.z_source?.value));
    // A column whose values are all the noData "" may be omitted from a table: then undefined.
    check(`${symbol}: clamp_flag present ("${info.properties.clamp_flag?.value}") or omitted as no data in its GLB table too`,
      typeof info.properties.clamp_flag?.value === 'string' || (aimed.row.clamp_flag === undefined && info.properties.clamp_flag?.value == null));
    if (String(info.id) === String(aimed.row.id)) {
      const mismatched = Object.entries(aimed.row)
        .filter(([name, value]) => !sameValue(value, info.properties[name]))
        .map(([name, value]) => `${name}: GLB ${show(value)}, viewer ${show(info.properties[name])}`);
      check(`${symbol}: all ${Object.keys(aimed.row).length} GLB attributes of asset ${info.id} returned with their values`,
        mismatched.length === 0, mismatched.join('; '));
    }
    if (info.position) {
      const p = geodeticToEcef(info.position.lon, info.position.lat, info.position.height);
      const d = ecefDistance(p, aimed.centre);
      check(`${symbol}: picked point within the symbol (${d.toFixed(2)} m from its centre, bounding-box diagonal ${aimed.size.toFixed(1)} m)`,
        d <= Math.max(2, aimed.size));
    }
    if (!clicked && String(info.id) === String(aimed.row.id)) {
      clicked = true;
      await page.mouse.click(box.x + hit.x, box.y + hit.y);
      await page.waitForFunction((id) => document.getElementById('featureTitle').textContent.includes(`Asset ${id}`), String(info.id),
        { timeout: 10000 }).catch(() => {});
      const panel = await page.evaluate(() => ({
        title: document.getElementById('featureTitle').textContent,
        rows: Object.fromEntries([...document.querySelectorAll('#properties tr')].map((tr) => [tr.dataset.property, tr.cells[1].textContent])),
      }));
      check(`${symbol}: click shows asset ${info.id} in the side panel ("${panel.title}")`,
        panel.rows.id === String(info.id) && panel.title.includes(`Asset ${info.id}`));
      check(`${symbol}: side panel lists z_source (${panel.rows.z_source}) and the category (${panel.rows.type_en ?? panel.rows.category})`,
        panel.rows.z_source === info.properties.z_source?.value && (panel.rows.type_en ?? panel.rows.category) === category?.value);
      await page.evaluate(() => window.citytiler.render());
      const shot = path.join(args.out, 'viewer-asset.png');
      await page.screenshot({ path: shot, timeout: Math.min(30000, remaining()) });
      console.log(`screenshot with the picked asset: ${shot}`);
    }
  }
}

// ---------------------------------------------------------------- the test

let playwright;
try {
  playwright = require('playwright-core');
} catch {
  fatal('npm playwright-core missing: run tools/install-deps.sh (or npm ci --prefix tools/viewer)');
}
if (!fs.existsSync(CHROMIUM)) fatal(`${CHROMIUM} missing: run tools/install-deps.sh (Debian package chromium)`);

const base = new URL(args.url);
const glb = readGlbRows(args.tileset);
check(`tileset GLBs read (${glb.files.length} files, ${glb.rows.size} ids)`, glb.files.length > 0 && glb.rows.size > 0);
for (const n of glb.notes) console.log(`note: GLB property not compared: ${n}`);
let input;
try {
  input = readInputFootprints(args.pipeline);
} catch (e) {
  fatal(e.message);
}
check(`input footprints read (${input.footprints.size} ids from ${path.basename(input.source)})`, input.footprints.size > 0);

fs.mkdirSync(args.out, { recursive: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'citytiler-chromium-'));
let context = null;
const blocked = [];
const pageErrors = [];
const consoleLines = [];

async function run() {
  context = await playwright.chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
    timeout: 30000,
  });
  // Only the local server: every other origin is blocked (and counted).
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.origin === base.origin) return route.continue();
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e && e.message ? e.message : e)));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`${m.type()}: ${m.text()}`);
  });
  page.setDefaultTimeout(30000);

  const response = await page.goto(new URL('?duration=1', base).href, { waitUntil: 'load', timeout: remaining() });
  check('viewer page served (HTTP 200)', response && response.status() === 200, `status ${response && response.status()}`);
  const hasApi = await page.waitForFunction(() => !!window.citytiler, null, { timeout: Math.min(30000, remaining()) })
    .then(() => true, () => false);
  if (!hasApi) throw new Error('window.citytiler never appeared (Cesium.js or viewer.js failed to load)');
  const ready = await page.evaluate(() => window.citytiler.ready.then(() => 'ok', (e) => String(e && e.message ? e.message : e)));
  if (ready !== 'ok') throw new Error(`viewer failed to load the tileset: ${ready}`);
  ok(`tileset loaded and camera flown to it (${elapsed()} s)`);

  // All tiles loaded: tilesLoaded must stay true for STABLE_MS.
  const STABLE_MS = 1500;
  let since = null;
  let loaded = false;
  while (Date.now() < deadline - 20000) {
    const now = await page.evaluate(() => window.citytiler.tilesLoaded());
    if (now) {
      since ??= Date.now();
      if (Date.now() - since >= STABLE_MS) {
        loaded = true;
        break;
      }
    } else since = null;
    await page.waitForTimeout(100);
  }
  if (!check(`all tiles loaded (tilesLoaded stayed true ${STABLE_MS} ms; at ${elapsed()} s)`, loaded)) {
    throw new Error('tiles never finished loading');
  }
  await page.evaluate(() => {
    window.citytiler.stopRendering();
    window.citytiler.render();
  });

  const drawn = await page.evaluate(() => window.citytiler.drawnPixels(24, 8));
  const share = drawn.differing / drawn.total;
  check(`tileset drawn: ${drawn.differing} of ${drawn.total} pixels (${(100 * share).toFixed(1)}%) differ from the frame without it`,
    share >= 0.01, 'fewer than 1% of the pixels: nothing (or almost nothing) was drawn');

  const shot = path.join(args.out, 'viewer.png');
  await page.screenshot({ path: shot, timeout: Math.min(30000, remaining()) });
  check(`screenshot saved (${shot})`, fs.statSync(shot).size > 0);

  // Pick at the canvas centre, else search a growing square around it.
  const size = await page.evaluate(() => window.citytiler.canvasSize());
  const cx = Math.round(size.width / 2);
  const cy = Math.round(size.height / 2);
  const candidates = [[cx, cy]];
  for (let r = 1; r <= 8; r++) {
    for (let dx = -r; dx <= r; dx++) {
      for (let dy = -r; dy <= r; dy++) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) === r) candidates.push([cx + dx * 12, cy + dy * 12]);
      }
    }
  }
  // Then wherever the tileset is drawn (a tileset whose centre is empty, e.g. two
  // districts apart), nearest to the centre first, at most 400 more tries.
  // Only interior spots (their four grid neighbours drawn too): at an edge the 3x3-pixel
  // pick may hit a building while scene.pickPosition reads the ground behind it.
  const drawnSet = new Set((drawn.spots ?? []).map(([x, y]) => `${Math.round(x)},${Math.round(y)}`));
  const interior = ([x, y]) => [[8, 0], [-8, 0], [0, 8], [0, -8]].every(([dx, dy]) => drawnSet.has(`${x + dx},${y + dy}`));
  const spots = (drawn.spots ?? []).map(([x, y]) => [Math.round(x), Math.round(y)]).filter(interior)
    .sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  const step = Math.max(1, Math.ceil(spots.length / 400));
  for (let i = 0; i < spots.length; i += step) candidates.push(spots[i]);
  let hit = null;
  let tries = 0;
  for (const [x, y] of candidates) {
    tries++;
    const info = await page.evaluate(([px, py]) => window.citytiler.pickAt(px, py), [x, y]);
    // Buildings only here (assets, instanced symbols, have their own phase: --pick-asset).
    // The first building with a LiDAR roof (numeric roof_z) wins; else the first building.
    if (info && info.className !== 'asset') {
      hit ??= { x, y, info };
      if (typeof info.properties.roof_z?.value === 'number') {
        hit = { x, y, info };
        break;
      }
    }
  }
  if (!check(`a building picked near the screen centre or where the tileset is drawn (at ${hit ? `${hit.x},${hit.y}` : '-'} after ${tries} tries)`, hit)) {
    throw new Error('no feature under the screen centre');
  }
  const { info } = hit;
  const id = info.id;
  console.log(`picked: ${show(info)}`);
  check(`picked feature has an id property (${id})`, typeof id === 'string' && id.length > 0);
  check(`picked id is one of the ${input.footprints.size} input ids (${input.idField ?? 'FID'} in ${path.basename(input.source)})`,
    input.footprints.has(String(id)));
  // Rows of the picked feature's class only (asset ids may equal building ids).
  const rows = (glb.rows.get(String(id)) ?? []).filter((r) => !info.className || r.className === info.className);
  check(`picked id is in the tileset's GLB property tables (${rows.map((r) => r.file).join(', ') || 'none'})`, rows.length > 0);
  for (const name of ['ground_z', 'roof_z']) {
    const p = info.properties[name];
    check(`attribute ${name} present and numeric (${p ? p.value : 'missing'})`, p && typeof p.value === 'number' && Number.isFinite(p.value));
  }
  if (rows.length > 0) {
    const expected = rows[0].properties;
    const mismatched = Object.entries(expected)
      .filter(([name, value]) => !sameValue(value, info.properties[name]))
      .map(([name, value]) => `${name}: GLB ${show(value)}, viewer ${show(info.properties[name])}`);
    check(`all ${Object.keys(expected).length} GLB attributes of ${id} returned by the viewer with their values`,
      mismatched.length === 0, mismatched.join('; '));
  }
  if (check('picked position available (scene.pickPosition)', info.position)) {
    const polys = input.footprints.get(String(id));
    if (polys) {
      const d = distanceToFootprint(polys, info.position.lon, info.position.lat);
      let nearest = null;
      for (const [other, p] of input.footprints) {
        const od = distanceToFootprint(p, info.position.lon, info.position.lat);
        if (!nearest || od < nearest.d) nearest = { id: other, d: od };
      }
      check(`picked point (${info.position.lon.toFixed(7)}, ${info.position.lat.toFixed(7)}) lies on building ${id}'s input footprint ` +
        `(${d.toFixed(2)} m away; nearest footprint ${nearest.id} at ${nearest.d.toFixed(2)} m)`,
        d <= 1.5 && d <= nearest.d + 1.0);
    }
  }

  // The same through the UI: a real click fills the side panel.
  const box = await page.locator('#cesiumContainer canvas').first().boundingBox();
  await page.mouse.click(box.x + hit.x, box.y + hit.y);
  await page.waitForFunction(() => document.querySelectorAll('#properties tr').length > 0, null, { timeout: 10000 })
    .catch(() => {});
  const panel = await page.evaluate(() => ({
    title: document.getElementById('featureTitle').textContent,
    rows: Object.fromEntries([...document.querySelectorAll('#properties tr')].map((tr) => [tr.dataset.property, tr.cells[1].textContent])),
  }));
  check(`click shows building ${id} in the side panel ("${panel.title}")`, panel.rows.id === String(id) && panel.title.includes(String(id)));
  const missing = Object.keys(info.properties).filter((k) => !(k in panel.rows));
  check(`side panel lists all ${Object.keys(info.properties).length} properties`, missing.length === 0, `missing ${missing.join(', ')}`);
  check(`side panel shows roof_z ${panel.rows.roof_z}`, panel.rows.roof_z !== undefined && Number(panel.rows.roof_z) === info.properties.roof_z?.value);
  await page.evaluate(() => window.citytiler.render());
  const picked = path.join(args.out, 'viewer-picked.png');
  await page.screenshot({ path: picked, timeout: Math.min(30000, remaining()) });
  console.log(`screenshot with the picked building: ${picked}`);

  if (args['pick-asset']) await pickAssets(page);

  const errors = await page.evaluate(() => window.citytiler.errors.slice());
  check('no tile or render errors in the viewer', errors.length === 0, errors.join('; '));
}

const timer = setTimeout(() => {
  console.log(`FAIL: browser test timed out after ${args.timeout} s`);
  process.exit(1);
}, args.timeout * 1000 + 5000);

try {
  await run();
} catch (e) {
  fail(e.message.split('\n')[0]);
} finally {
  check('no page errors', pageErrors.length === 0, pageErrors.join('; '));
  check('no request left 127.0.0.1 (other origins blocked)', blocked.length === 0, `${blocked.length} blocked: ${blocked.slice(0, 5).join(' ')}`);
  for (const l of consoleLines.slice(0, 20)) console.log(`console ${l}`);
  if (context) await context.close().catch(() => {});
  fs.rmSync(profile, { recursive: true, force: true });
  clearTimeout(timer);
}
console.log(`${passed} passed, ${failed} failed (${elapsed()} s)`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
