#!/usr/bin/env node
// validate-tileset.mjs [--schema DIR] [--json] [--verbose] TILESET_DIR_OR_JSON...
//
// 1. JSON-schema validation (Ajv, JSON Schema 2020-12) of tileset.json against
//    the official 3D Tiles schema, and of every .subtree file (found below the
//    static directory part of each implicitTiling.subtrees.uri template) against
//    Subtree/subtree.schema.json, after parsing the binary subtree header.
// 2. Structural checks the schema cannot express: asset version, geometric
//    error monotonicity, region nesting, content files exist, content bounding
//    volumes inside tile volumes, and every GLB vertex inside its tile's volume.
// External tilesets referenced as content (.json) are validated recursively.
// Exit code: 0 = no errors anywhere, 1 = errors, 2 = usage error.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { parseGlb, readAccessor, forEachNode } from './lib/gltf.mjs';
import {
  identity, multiply, transformPoint, trsMatrix, Y_UP_TO_Z_UP, ecefToGeodetic,
  pointInRegion, regionInRegion, boxExcess, sphereExcess, boxCorners,
} from './lib/geometry.mjs';
import { expandImplicit } from './lib/implicit.mjs';

const SCRIPT_DIR = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_SCHEMA_DIR = path.resolve(SCRIPT_DIR, '../../../shared/schema/3d-tiles');

// The official schemas use bare file names as $id and file-relative $refs
// ("../common/rootProperty.schema.json"). Re-keying each schema by an absolute
// URI built from its path under the schema dir makes those refs resolve.
// The host is never contacted: Ajv resolves everything from memory.
const SCHEMA_BASE = 'https://citytiler.invalid/3d-tiles/';

// Tolerances (see the brief in README.md)
const TOL = {
  bvRad: 1e-9, bvM: 1e-3, // bounding volume inside bounding volume
  vertexRad: 1e-8, vertexM: 0.01, // GLB vertex inside bounding volume
};

// GLB extensions whose vertex data we cannot decode: skip the content-inside check.
const UNDECODABLE_EXTENSIONS = ['KHR_draco_mesh_compression'];

/** Issues of one checked file (tileset JSON or subtree). */
class Report {
  constructor(file) {
    this.file = file;
    this.messages = [];
  }
  add(severity, pointer, message) {
    this.messages.push({ severity, pointer, message });
  }
  error(pointer, message) { this.add('error', pointer, message); }
  warning(pointer, message) { this.add('warning', pointer, message); }
  note(pointer, message) { this.add('note', pointer, message); }
  count(severity) { return this.messages.filter((m) => m.severity === severity).length; }
  toJSON() {
    return { file: this.file, errors: this.count('error'), warnings: this.count('warning'), messages: this.messages };
  }
}

// ---------------------------------------------------------------------------
// Schemas

function listFiles(dir, suffix) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, suffix));
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out.sort();
}

/** Loads all *.schema.json under `dir` into one Ajv2020; returns { tileset, subtree } validate functions. */
export function loadSchemas(dir = DEFAULT_SCHEMA_DIR) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('iri-reference', true); // only format used by the schemas; not worth a dependency
  for (const file of listFiles(dir, '.schema.json')) {
    const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
    schema.$id = SCHEMA_BASE + path.relative(dir, file).split(path.sep).join('/');
    ajv.addSchema(schema);
  }
  const get = (rel) => {
    const v = ajv.getSchema(SCHEMA_BASE + rel);
    if (!v) throw new Error(`schema ${rel} not found in ${dir}`);
    return v;
  };
  return { tileset: get('tileset.schema.json'), subtree: get('Subtree/subtree.schema.json') };
}

function schemaErrors(validate, json, report) {
  if (validate(json)) return;
  for (const e of validate.errors) {
    const extra = e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '';
    report.error(e.instancePath || '/', `schema: ${e.message}${extra} (${e.schemaPath})`);
  }
}

// ---------------------------------------------------------------------------
// Bounding volumes

/** Checks `inner` ⊆ `outer` (both in the same frame); reports to `report` at `ptr`. */
function checkVolumeInside(inner, outer, ptr, what, report) {
  if (!inner || !outer) return;
  let checked = false;
  if (inner.region && outer.region) {
    checked = true;
    const problems = regionInRegion(inner.region, outer.region, TOL.bvRad, TOL.bvM);
    if (problems.length) report.error(`${ptr}/region`, `${what} region not inside: ${problems.join('; ')}`);
  }
  // box/sphere are in the same (tile) frame, so any combination can be compared directly.
  for (const [ik, innerPts, r] of innerShapes(inner)) {
    for (const ok of ['box', 'sphere']) {
      if (!outer[ok]) continue;
      checked = true;
      const excess = Math.max(...innerPts.map((p) => (ok === 'box' ? boxExcess(outer.box, p, r) : sphereExcess(outer.sphere, p, r))));
      if (Number.isNaN(excess)) report.note(ptr, `${what}: degenerate box, ${ik}-in-${ok} not checked`);
      else if (excess > TOL.bvM) report.error(`${ptr}/${ik}`, `${what} ${ik} sticks out of the ${ok} by ${excess.toFixed(4)} m`);
    }
  }
  if (!checked) report.note(ptr, `${what}: bounding volume types ${Object.keys(inner)} vs ${Object.keys(outer)} not compared`);
}

/** Box/sphere of a bounding volume as [kind, points, radius] to test against an outer volume. */
function innerShapes(bv) {
  const shapes = [];
  if (bv.box?.length === 12) shapes.push(['box', boxCorners(bv.box), 0]);
  if (bv.sphere?.length === 4) shapes.push(['sphere', [bv.sphere.slice(0, 3)], bv.sphere[3]]);
  return shapes;
}

// ---------------------------------------------------------------------------
// GLB content inside its bounding volumes

/**
 * Every vertex of the GLB (node chain, optional EXT_mesh_gpu_instancing,
 * y-up -> z-up, optional CESIUM_RTC) must lie inside each of `volumes`
 * ([{ bv, ptr, what }]). Box/sphere are compared in the tile frame; regions
 * after the cumulative tile transform, in WGS84 geodetic coordinates.
 */
function checkGlbInside(file, uri, volumes, tileTransform, cptr, report) {
  volumes = volumes.filter((v) => v.bv && (v.bv.region || v.bv.box || v.bv.sphere));
  if (volumes.length === 0) return;
  let gltf, bin;
  try {
    ({ json: gltf, bin } = parseGlb(new Uint8Array(fs.readFileSync(file))));
  } catch (e) {
    report.error(`${cptr}/uri`, `${uri}: not a readable GLB: ${e.message}`);
    return;
  }
  const undecodable = (gltf.extensionsUsed ?? []).filter((x) => UNDECODABLE_EXTENSIONS.includes(x));
  if (undecodable.length) {
    report.note(`${cptr}/uri`, `${uri}: uses ${undecodable.join(', ')}; content-inside-volume check skipped`);
    return;
  }
  const checkers = volumes.map((v) => makeVertexChecker(v, tileTransform));
  try {
    forEachVertex(gltf, bin, (p) => { for (const c of checkers) c.test(p); });
  } catch (e) {
    report.error(`${cptr}/uri`, `${uri}: cannot read vertex positions: ${e.message}`);
    return;
  }
  for (const c of checkers) {
    if (c.outside) {
      report.error(c.ptr, `${uri}: ${c.outside} of ${c.total} vertices outside the ${c.what} ${c.kind}; worst ${c.worstText}`);
    }
  }
}

/** Calls fn([x, y, z]) with every vertex in the tile frame (before the tile transform). */
function forEachVertex(gltf, bin, fn) {
  let base = Y_UP_TO_Z_UP;
  const rtc = gltf.extensions?.CESIUM_RTC?.center;
  if (rtc) base = multiply(trsMatrix(rtc), base); // legacy RTC center is applied in z-up tile frame
  forEachNode(gltf, (_, node, world) => {
    const mesh = gltf.meshes?.[node.mesh];
    if (!mesh) return;
    for (const inst of instanceMatrices(gltf, bin, node)) {
      const m = multiply(base, multiply(world, inst));
      for (const prim of mesh.primitives ?? []) {
        if (prim.attributes?.POSITION === undefined) continue;
        const { count, data } = readAccessor(gltf, bin, prim.attributes.POSITION);
        for (let i = 0; i < count; i++) fn(transformPoint(m, data[3 * i], data[3 * i + 1], data[3 * i + 2]));
      }
    }
  });
}

/** EXT_mesh_gpu_instancing: one T×R×S matrix per instance (relative to the node); else [identity]. */
function instanceMatrices(gltf, bin, node) {
  const attrs = node.extensions?.EXT_mesh_gpu_instancing?.attributes;
  if (!attrs) return [identity()];
  const read = (name) => (attrs[name] === undefined ? null : readAccessor(gltf, bin, attrs[name]));
  const t = read('TRANSLATION'), r = read('ROTATION'), s = read('SCALE');
  const count = (t ?? r ?? s)?.count ?? 0;
  const at = (a, i, n) => (a ? Array.from(a.data.subarray(i * n, i * n + n)) : undefined);
  return Array.from({ length: count }, (_, i) => trsMatrix(at(t, i, 3), at(r, i, 4), at(s, i, 3)));
}

/** Accumulates how many vertices fall outside one bounding volume and the worst offender. */
function makeVertexChecker({ bv, ptr, what }, tileTransform) {
  const c = { ptr, what, kind: '', total: 0, outside: 0, worst: -Infinity, worstText: '' };
  const record = (excess, text) => {
    c.outside++;
    if (excess > c.worst) [c.worst, c.worstText] = [excess, text];
  };
  if (bv.region) {
    c.kind = 'region';
    c.ptr = `${ptr}/region`;
    const [w, s, e, n, minH, maxH] = bv.region;
    c.test = (p) => {
      c.total++;
      const g = ecefToGeodetic(...transformPoint(tileTransform, ...p));
      if (pointInRegion(g, bv.region, TOL.vertexRad, TOL.vertexM)) return;
      // Score: height overshoot in m, or angle overshoot in rad scaled to ~m (× 6.4e6).
      const dLat = Math.max(s - g[1], g[1] - n, 0) * 6.4e6;
      const dH = Math.max(minH - g[2], g[2] - maxH, 0);
      record(Math.max(dLat, dH, 1e-9), `lon ${g[0].toFixed(10)} lat ${g[1].toFixed(10)} h ${g[2].toFixed(3)} vs region [${w}, ${s}, ${e}, ${n}, ${minH}, ${maxH}]`);
    };
  } else {
    const kind = bv.box ? 'box' : 'sphere';
    c.kind = kind;
    c.ptr = `${ptr}/${kind}`;
    c.test = (p) => {
      c.total++;
      const excess = kind === 'box' ? boxExcess(bv.box, p) : sphereExcess(bv.sphere, p);
      if (!(excess > TOL.vertexM)) return; // NaN (degenerate box) is not reported per vertex
      record(excess, `${excess.toFixed(4)} m outside at (${p.map((x) => x.toFixed(3)).join(', ')})`);
    };
  }
  return c;
}

// ---------------------------------------------------------------------------
// Tileset traversal

const isUriWithScheme = (uri) => /^[a-z][a-z0-9+.-]*:/i.test(uri);

/** Local file path of a relative content/subtree URI, or null for data:/http: URIs. */
function localPath(dir, uri) {
  if (isUriWithScheme(uri)) return null;
  let p = uri.split(/[?#]/)[0];
  try {
    p = decodeURIComponent(p);
  } catch { /* keep undecoded */ }
  return path.resolve(dir, p);
}

class TilesetWalker {
  constructor(ctx, file, report) {
    this.ctx = ctx; // { schemas, visited: Set, reports: [] }
    this.file = file;
    this.dir = path.dirname(file);
    this.report = report;
    this.implicitRoots = [];
  }

  // sameTile: `tile` is the level-0 tile of the implicit root `parent` (same tile, its
  // error may equal the parent's).
  walkTile(tile, ptr, parent, parentTransform, sameTile = false) {
    if (!tile || typeof tile !== 'object') return;
    const r = this.report;
    const ge = tile.geometricError;
    if (typeof ge !== 'number') r.error(`${ptr}/geometricError`, 'tile has no numeric geometricError');
    else if (parent && typeof parent.geometricError === 'number' && !(sameTile ? ge <= parent.geometricError : ge < parent.geometricError)) {
      r.error(`${ptr}/geometricError`, `child geometricError ${ge} is not less than parent's ${parent.geometricError}`);
    }
    // The schema accepts any string for extensibility; 3D Tiles 1.1 defines only these two.
    if (tile.refine !== undefined && tile.refine !== 'ADD' && tile.refine !== 'REPLACE') {
      r.error(`${ptr}/refine`, `refine must be "ADD" or "REPLACE", got ${JSON.stringify(tile.refine)}`);
    }
    // Regions are absolute (EPSG:4979) and not affected by tile transforms.
    const bv = tile.boundingVolume;
    if (parent && bv?.region && parent.boundingVolume?.region) {
      const problems = regionInRegion(bv.region, parent.boundingVolume.region, TOL.bvRad, TOL.bvM);
      if (problems.length) r.error(`${ptr}/boundingVolume/region`, `child region not inside parent region: ${problems.join('; ')}`);
    }
    const transform = Array.isArray(tile.transform) && tile.transform.length === 16 ? multiply(parentTransform, tile.transform) : parentTransform;

    const contents = tile.content ? [[tile.content, `${ptr}/content`]] : [];
    (tile.contents ?? []).forEach((c, i) => contents.push([c, `${ptr}/contents/${i}`]));
    for (const [content, cptr] of contents) this.checkContent(content, cptr, tile, ptr, transform);

    (tile.children ?? []).forEach((child, i) => this.walkTile(child, child.__ptr ?? `${ptr}/children/${i}`, tile, transform));
    if (tile.implicitTiling) this.checkImplicitRoot(tile, ptr, transform);
  }

  checkContent(content, cptr, tile, tptr, transform) {
    const r = this.report;
    checkVolumeInside(content.boundingVolume, tile.boundingVolume, `${cptr}/boundingVolume`, 'content bounding volume', r);
    const uri = content.uri;
    if (typeof uri !== 'string') return; // schema error already
    if (tile.implicitTiling) return; // template URI: resolved per subtree, not here
    const file = localPath(this.dir, uri);
    if (file === null) {
      if (!uri.startsWith('data:')) r.warning(`${cptr}/uri`, `non-local content URI not checked: ${uri}`);
      return;
    }
    if (!fs.existsSync(file)) {
      r.error(`${cptr}/uri`, `content file not found: ${uri} (${file})`);
      return;
    }
    const ext = path.extname(file).toLowerCase();
    if (ext === '.glb') {
      const volumes = [
        { bv: tile.boundingVolume, ptr: `${tptr}/boundingVolume`, what: 'tile' },
        { bv: content.boundingVolume, ptr: `${cptr}/boundingVolume`, what: 'content' },
      ];
      checkGlbInside(file, uri, volumes, transform, cptr, r);
    } else if (ext === '.json') {
      validateTilesetFile(file, this.ctx, transform); // external tileset inherits the tile's transform
    }
  }

  /** Expands the implicit tree (availability, template URIs, tile metadata) and walks it
   * like explicit tiles; the .subtree files themselves are checked in validateSubtreesOf. */
  checkImplicitRoot(tile, ptr, transform) {
    const it = tile.implicitTiling;
    this.implicitRoots.push(it);
    const tmpl = it.subtrees?.uri;
    if (typeof tmpl !== 'string' || isUriWithScheme(tmpl)) {
      this.report.note(`${ptr}/implicitTiling`, 'implicit tiling: non-local subtrees not expanded');
      return;
    }
    const rootUri = tmpl.replace(/\{(level|x|y|z)\}/g, '0');
    const file = localPath(this.dir, rootUri);
    if (file && !fs.existsSync(file)) {
      this.report.error(`${ptr}/implicitTiling/subtrees/uri`, `root subtree not found: ${rootUri}`);
      return;
    }
    const { tile: top, stats } = expandImplicit(tile, this.json ?? {}, this.dir, this.report, ptr);
    this.report.note(`${ptr}/implicitTiling`, `implicit tiling expanded: ${stats.tiles} tiles, ${stats.contents} contents, ${stats.subtrees} subtrees`);
    if (top) this.walkTile(top, top.__ptr, tile, transform, true);
  }
}

/** Top-level checks of a tileset JSON object (schema + asset + geometric errors + tree). */
function checkTilesetJson(json, walker, inheritedTransform) {
  const rep = walker.report;
  schemaErrors(walker.ctx.schemas.tileset, json, rep);
  if (json?.asset?.version !== '1.1') rep.error('/asset/version', `asset.version must be "1.1", got ${JSON.stringify(json?.asset?.version)}`);
  const root = json?.root;
  if (!root || typeof root !== 'object') return rep.error('/root', 'tileset has no root tile');
  if (root.refine === undefined) rep.error('/root/refine', 'the root tile must define refine');
  if (!(root.geometricError > 0)) rep.error('/root/geometricError', `root geometricError must be > 0, got ${root.geometricError}`);
  if (!(json.geometricError >= root.geometricError)) {
    rep.error('/geometricError', `tileset geometricError ${json.geometricError} must be >= root geometricError ${root.geometricError}`);
  }
  walker.walkTile(root, '/root', null, inheritedTransform);
}

/** Validates one tileset JSON file (and, recursively, external tilesets and .subtree files). */
export function validateTilesetFile(file, ctx, inheritedTransform = identity()) {
  file = path.resolve(file);
  if (ctx.visited.has(file)) return;
  ctx.visited.add(file);
  const report = new Report(file);
  ctx.reports.push(report);
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    report.error('/', `cannot read tileset JSON: ${e.message}`);
    return;
  }
  const walker = new TilesetWalker(ctx, file, report);
  walker.json = json;
  try {
    checkTilesetJson(json, walker, inheritedTransform);
  } catch (e) {
    report.error('/', `validator failed on this input: ${e.stack}`); // never let a crash look like success
  }
  for (const it of walker.implicitRoots) validateSubtreesOf(it, path.dirname(file), ctx);
}

/**
 * Validates every .subtree file below the static part of the implicit tiling's
 * subtree template (e.g. "subtrees/{level}.{x}.{y}.subtree" -> subtrees/),
 * knowing its subdivision scheme and subtreeLevels (needed for bitstream sizes).
 */
function validateSubtreesOf(implicitTiling, dir, ctx) {
  const tmpl = implicitTiling.subtrees?.uri;
  if (typeof tmpl !== 'string' || isUriWithScheme(tmpl)) return;
  const brace = tmpl.indexOf('{');
  const staticPart = brace < 0 ? tmpl : `${tmpl.slice(0, brace)}x`; // dirname("subtrees/x") = "subtrees"
  const scanDir = path.dirname(path.resolve(dir, staticPart));
  if (!fs.existsSync(scanDir)) return; // the missing root subtree is reported by checkImplicitRoot
  for (const st of listFiles(scanDir, '.subtree')) {
    if (ctx.visited.has(st)) continue;
    ctx.visited.add(st);
    try {
      ctx.reports.push(validateSubtreeFile(st, ctx.schemas, implicitTiling));
    } catch (e) {
      const rep = new Report(st);
      rep.error('/', `validator failed on this input: ${e.stack}`);
      ctx.reports.push(rep);
    }
  }
}

// ---------------------------------------------------------------------------
// Subtree files

const SUBTREE_MAGIC = 0x74627573; // "subt" little-endian

/** Parses and checks one binary .subtree file; returns its Report. */
export function validateSubtreeFile(file, schemas, implicitTiling = null) {
  const report = new Report(file);
  const bytes = fs.readFileSync(file);
  if (bytes.length < 24) return report.error('/', `file too short for a subtree header (${bytes.length} bytes)`), report;
  const magic = bytes.readUInt32LE(0);
  const version = bytes.readUInt32LE(4);
  const jsonLength = Number(bytes.readBigUInt64LE(8));
  const binLength = Number(bytes.readBigUInt64LE(16));
  if (magic !== SUBTREE_MAGIC) report.error('/', `bad magic 0x${magic.toString(16)} (expected "subt")`);
  if (version !== 1) report.error('/', `version must be 1, got ${version}`);
  if (24 + jsonLength + binLength !== bytes.length) {
    report.error('/', `header lengths 24 + ${jsonLength} + ${binLength} != file size ${bytes.length}`);
  }
  if (jsonLength % 8 !== 0) report.error('/', `jsonByteLength ${jsonLength} is not padded to a multiple of 8`);
  if (binLength % 8 !== 0) report.error('/', `binaryByteLength ${binLength} is not padded to a multiple of 8`);
  if (magic !== SUBTREE_MAGIC || 24 + jsonLength > bytes.length) return report;

  let json;
  try {
    json = JSON.parse(bytes.subarray(24, 24 + jsonLength).toString('utf8'));
  } catch (e) {
    return report.error('/', `subtree JSON does not parse: ${e.message}`), report;
  }
  schemaErrors(schemas.subtree, json, report);
  const bufferLengths = checkSubtreeBuffers(json, file, binLength, report);
  checkSubtreeAvailability(json, bytes.subarray(24 + jsonLength), bufferLengths, implicitTiling, report);
  return report;
}

/** Buffers fit the binary chunk / external files; buffer views fit buffers and are 8-aligned. */
function checkSubtreeBuffers(json, file, binLength, report) {
  const lengths = (json.buffers ?? []).map((b, i) => {
    const ptr = `/buffers/${i}`;
    if (b.uri === undefined) {
      if (b.byteLength > binLength) report.error(ptr, `internal buffer byteLength ${b.byteLength} > binary chunk ${binLength}`);
      return Math.min(b.byteLength, binLength);
    }
    const p = localPath(path.dirname(file), b.uri);
    if (p && !fs.existsSync(p)) report.error(`${ptr}/uri`, `external buffer not found: ${b.uri}`);
    else if (p && fs.statSync(p).size < b.byteLength) report.error(ptr, `external buffer ${b.uri} is shorter than byteLength ${b.byteLength}`);
    return b.byteLength;
  });
  (json.bufferViews ?? []).forEach((v, i) => {
    const ptr = `/bufferViews/${i}`;
    if (lengths[v.buffer] === undefined) return report.error(`${ptr}/buffer`, `buffer ${v.buffer} does not exist`);
    if (v.byteOffset % 8 !== 0) report.error(`${ptr}/byteOffset`, `byteOffset ${v.byteOffset} is not a multiple of 8`);
    if (v.byteOffset + v.byteLength > lengths[v.buffer]) {
      report.error(ptr, `[${v.byteOffset}, ${v.byteOffset + v.byteLength}) exceeds buffer ${v.buffer} (${lengths[v.buffer]} bytes)`);
    }
  });
  return lengths;
}

/** Availability bitstreams exist, are long enough and match availableCount (needs the implicit tiling). */
function checkSubtreeAvailability(json, binChunk, bufferLengths, it, report) {
  const n = it?.subdivisionScheme === 'OCTREE' ? 8 : 4;
  const levels = it?.subtreeLevels;
  const tileBits = levels ? (n ** levels - 1) / (n - 1) : null;
  const childBits = levels ? n ** levels : null;
  const entries = [['tileAvailability', json.tileAvailability, tileBits], ['childSubtreeAvailability', json.childSubtreeAvailability, childBits]];
  (json.contentAvailability ?? []).forEach((a, i) => entries.push([`contentAvailability/${i}`, a, tileBits]));
  for (const [name, avail, bits] of entries) {
    if (!avail || avail.bitstream === undefined) continue;
    const ptr = `/${name}/bitstream`;
    const view = json.bufferViews?.[avail.bitstream];
    if (!view) {
      report.error(ptr, `bufferView ${avail.bitstream} does not exist`);
      continue;
    }
    if (bits === null) continue;
    if (view.byteLength < Math.ceil(bits / 8)) {
      report.error(ptr, `bitstream has ${view.byteLength} bytes, needs ${Math.ceil(bits / 8)} for ${bits} bits`);
      continue;
    }
    // Only internal-buffer bitstreams are counted (external ones would need another read).
    const buf = json.buffers?.[view.buffer];
    if (avail.availableCount !== undefined && buf && buf.uri === undefined && view.byteOffset + view.byteLength <= binChunk.length) {
      const ones = popcount(binChunk.subarray(view.byteOffset, view.byteOffset + view.byteLength), bits);
      if (ones !== avail.availableCount) report.error(`/${name}/availableCount`, `availableCount ${avail.availableCount} != ${ones} set bits`);
    }
  }
  if (json.tileAvailability?.constant === 0) report.error('/tileAvailability/constant', 'tileAvailability.constant 0 is disallowed');
}

function popcount(bytes, bits) {
  let ones = 0;
  for (let i = 0; i < bits; i++) ones += (bytes[i >> 3] >> (i & 7)) & 1; // bit i = LSB-first within byte
  return ones;
}

// ---------------------------------------------------------------------------
// CLI

/** Validates tileset inputs (dir -> dir/tileset.json); returns the list of Reports. */
export function validateTilesets(inputs, schemaDir = DEFAULT_SCHEMA_DIR) {
  const ctx = { schemas: loadSchemas(schemaDir), visited: new Set(), reports: [] };
  for (const input of inputs) validateTilesetFile(resolveInput(input), ctx);
  return ctx.reports;
}

function resolveInput(input) {
  const st = fs.statSync(input); // throws ENOENT -> usage error
  return st.isDirectory() ? path.join(input, 'tileset.json') : input;
}

function printReport(rep, cwd, verbose) {
  const rel = path.relative(cwd, rep.file);
  const name = rel && !rel.startsWith('..') ? rel : rep.file;
  console.log(`${name}: ${rep.count('error')} errors, ${rep.count('warning')} warnings`);
  const LIMIT = 20; // notes/warnings can repeat per tile; errors are always printed in full
  let shown = 0;
  let hidden = 0;
  for (const m of rep.messages) {
    if (m.severity !== 'error' && !verbose && shown >= LIMIT) { hidden++; continue; }
    if (m.severity !== 'error') shown++;
    console.log(`  ${m.severity.toUpperCase()} ${m.pointer}: ${m.message}`);
  }
  if (hidden) console.log(`  (${hidden} more notes/warnings; use --verbose)`);
}

const USAGE = `usage: node validate-tileset.mjs [--schema DIR] [--json] [--verbose] TILESET_DIR_OR_JSON...
  Schema + structural validation of 3D Tiles 1.1 tilesets (and their .subtree files).
  --schema DIR  3D Tiles JSON schema dir (default: ${DEFAULT_SCHEMA_DIR})
  --json        print a JSON summary instead of text
  --verbose     print every note/warning
  exit code: 0 no errors, 1 errors found, 2 usage error`;

function main(argv) {
  const opts = { schemaDir: DEFAULT_SCHEMA_DIR, json: false, verbose: false };
  const inputs = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--schema') {
      if (i + 1 >= argv.length) return console.error(`--schema needs a directory\n${USAGE}`), 2;
      opts.schemaDir = argv[++i];
    } else if (a === '--json') opts.json = true;
    else if (a === '--verbose') opts.verbose = true;
    else if (a === '-h' || a === '--help') return console.log(USAGE), 0;
    else if (a.startsWith('--')) return console.error(`unknown option ${a}\n${USAGE}`), 2;
    else inputs.push(a);
  }
  if (inputs.length === 0) return console.error(USAGE), 2;
  let reports;
  try {
    inputs.forEach(resolveInput);
    reports = validateTilesets(inputs, opts.schemaDir);
  } catch (e) {
    console.error(`error: ${e.message}`);
    return 2;
  }
  const errors = reports.reduce((s, rep) => s + rep.count('error'), 0);
  if (opts.json) console.log(JSON.stringify({ files: reports.length, errors, reports }, null, 2));
  else reports.forEach((rep) => printReport(rep, process.cwd(), opts.verbose));
  return errors ? 1 : 0;
}

const isMain = process.argv[1] && fs.realpathSync(process.argv[1]) === fs.realpathSync(fileURLToPath(import.meta.url));
if (isMain) process.exitCode = main(process.argv.slice(2));
