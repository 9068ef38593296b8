// Expansion of a 3D Tiles 1.1 implicit tileset into explicit tile objects, so the
// validator can apply the same structural checks to implicit tiles as to explicit ones.
//
// expandImplicit(rootTile, tilesetJson, dir, report, ptr) reads the subtree files
// reachable from the implicit root tile (binary .subtree or JSON subtrees), follows tile,
// content and child subtree availability, and returns a tree of plain tile objects
// { boundingVolume, geometricError, content?/contents?, children } for the available
// tiles (the implicit root's own tile at level 0 first). Each tile's bounding volume and
// geometric error are the implicit ones (root volume subdivided, error halved per level)
// unless tile metadata overrides them (TILE_BOUNDING_REGION / _BOX / _SPHERE,
// TILE_MINIMUM_HEIGHT / TILE_MAXIMUM_HEIGHT, TILE_GEOMETRIC_ERROR); content bounding
// volumes come from content metadata (CONTENT_BOUNDING_*). Template URIs are expanded.
// Availability rules are reported as errors on `report` (tiles whose parent is not
// available, content without a tile, tiles at or below availableLevels, child subtrees
// without their parent tile or file, metadata tables of the wrong size).

import fs from 'node:fs';
import path from 'node:path';

const SUBTREE_MAGIC = 0x74627573; // "subt"

const COMPONENT_ARRAYS = {
  INT8: Int8Array, UINT8: Uint8Array, INT16: Int16Array, UINT16: Uint16Array,
  INT32: Int32Array, UINT32: Uint32Array, INT64: BigInt64Array, UINT64: BigUint64Array,
  FLOAT32: Float32Array, FLOAT64: Float64Array,
};

/** Interleaves the bits of coords (x in the lowest bit), as availability ordering does. */
export function mortonIndex(coords) {
  let m = 0;
  let factor = 1;
  const d = coords.length;
  const c = coords.slice();
  while (c.some((v) => v > 0)) {
    for (let k = 0; k < d; k++) {
      if (c[k] & 1) m += factor * 2 ** k;
      c[k] = Math.floor(c[k] / 2);
    }
    factor *= 2 ** d;
  }
  return m;
}

/** Parses a subtree file (binary "subt" or JSON); returns { json, bin } or throws. */
export function parseSubtree(bytes) {
  if (bytes.length >= 24 && bytes.readUInt32LE(0) === SUBTREE_MAGIC) {
    const jsonLength = Number(bytes.readBigUInt64LE(8));
    const binLength = Number(bytes.readBigUInt64LE(16));
    if (24 + jsonLength + binLength > bytes.length) throw new Error('subtree lengths exceed the file');
    const json = JSON.parse(bytes.subarray(24, 24 + jsonLength).toString('utf8'));
    return { json, bin: bytes.subarray(24 + jsonLength, 24 + jsonLength + binLength) };
  }
  return { json: JSON.parse(bytes.toString('utf8')), bin: null };
}

/** Substitutes tile coordinates into a template URI. */
export function expandTemplate(tmpl, level, x, y, z) {
  return tmpl.replace(/\{level\}/g, String(level)).replace(/\{x\}/g, String(x)).replace(/\{y\}/g, String(y))
    .replace(/\{z\}/g, String(z));
}

/** The implicit bounding volume of tile (level, x, y, z) under the root volume. */
export function implicitVolume(rootBv, octree, level, x, y, z) {
  const div = 2 ** level;
  if (rootBv.region) {
    const [w, s, e, n, h0, h1] = rootBv.region;
    // A root with west > east crosses the antimeridian: its width runs on past pi, and
    // children's longitudes come back into [-pi, pi] (as CesiumJS's deriveBoundingRegion).
    const width = e >= w ? e - w : e - w + 2 * Math.PI;
    const wrap = (lon) => (lon > Math.PI ? lon - 2 * Math.PI : lon);
    const dl = width / div, dp = (n - s) / div;
    const heights = octree ? [h0 + ((h1 - h0) / div) * z, h0 + ((h1 - h0) / div) * (z + 1)] : [h0, h1];
    return { region: [wrap(w + dl * x), s + dp * y, wrap(w + dl * (x + 1)), s + dp * (y + 1), ...heights] };
  }
  if (rootBv.box) {
    const b = rootBv.box;
    const c = b.slice(0, 3), u = b.slice(3, 6), v = b.slice(6, 9), t = b.slice(9, 12);
    const f = (i) => -1 + (2 * i + 1) / div; // centre offset along an axis, in half-axis units
    const fz = octree ? f(z) : 0;
    const centre = [0, 1, 2].map((k) => c[k] + u[k] * f(x) + v[k] * f(y) + t[k] * fz);
    const sc = (a, d) => a.map((q) => q / d);
    return { box: [...centre, ...sc(u, div), ...sc(v, div), ...sc(t, octree ? div : 1)] };
  }
  return null; // spheres cannot be subdivided (schema/structure error reported elsewhere)
}

/** Availability accessor: (index) -> 0/1, plus the number of set bits among `bits`. */
function availabilityReader(avail, views, bits) {
  if (!avail) return { get: () => 0, count: 0, ok: false };
  if (avail.constant !== undefined) return { get: () => (avail.constant ? 1 : 0), count: avail.constant ? bits : 0, ok: true };
  const bytes = views(avail.bitstream);
  if (!bytes) return { get: () => 0, count: 0, ok: false };
  const get = (i) => (i < bits ? (bytes[i >> 3] >> (i & 7)) & 1 : 0);
  let count = 0;
  for (let i = 0; i < bits; i++) count += get(i);
  return { get, count, ok: true };
}

/** Reads the values of semantic-carrying properties of one property table: { SEMANTIC: (row) -> value }. */
function semanticColumns(table, schema, views, report, ptr, wanted) {
  const out = {};
  const cls = schema?.classes?.[table?.class];
  if (!table || !cls) {
    report.error(ptr, `property table class ${JSON.stringify(table?.class)} not in the tileset schema`);
    return out;
  }
  for (const [name, prop] of Object.entries(table.properties ?? {})) {
    const def = cls.properties?.[name];
    if (!def) {
      report.error(`${ptr}/properties/${name}`, `property ${name} not in class ${table.class}`);
      continue;
    }
    if (!wanted.includes(def.semantic)) continue;
    const Arr = COMPONENT_ARRAYS[def.componentType];
    if (def.type !== 'SCALAR' || !Arr || (def.array && !(def.count > 0))) {
      report.note(`${ptr}/properties/${name}`, `${def.semantic}: ${def.type}/${def.componentType}${def.array ? ' variable-length array' : ''} not decoded; implicit values used`);
      continue;
    }
    const bytes = views(prop.values);
    if (!bytes) {
      report.error(`${ptr}/properties/${name}/values`, `bufferView ${prop.values} missing`);
      continue;
    }
    const n = def.array ? def.count : 1;
    const need = table.count * n * Arr.BYTES_PER_ELEMENT;
    if (bytes.length < need || bytes.byteOffset % Arr.BYTES_PER_ELEMENT) {
      report.error(`${ptr}/properties/${name}/values`, `${bytes.length} bytes for ${table.count} rows of ${n} ${def.componentType} (need ${need}, aligned)`);
      continue;
    }
    const arr = new Arr(bytes.buffer, bytes.byteOffset, table.count * n);
    const scale = prop.scale ?? def.scale ?? 1, offset = prop.offset ?? def.offset ?? 0;
    const val = (i) => Number(arr[i]) * (Array.isArray(scale) ? 1 : scale) + (Array.isArray(offset) ? 0 : offset);
    out[def.semantic] = (row) => (def.array ? Array.from({ length: n }, (_, k) => val(row * n + k)) : val(row));
  }
  return out;
}

const TILE_SEMANTICS = ['TILE_BOUNDING_REGION', 'TILE_BOUNDING_BOX', 'TILE_BOUNDING_SPHERE', 'TILE_MINIMUM_HEIGHT', 'TILE_MAXIMUM_HEIGHT', 'TILE_GEOMETRIC_ERROR'];
const CONTENT_SEMANTICS = ['CONTENT_BOUNDING_REGION', 'CONTENT_BOUNDING_BOX', 'CONTENT_BOUNDING_SPHERE', 'CONTENT_MINIMUM_HEIGHT', 'CONTENT_MAXIMUM_HEIGHT'];

/** A bounding volume from metadata values with prefix TILE_ or CONTENT_ (null when none). */
function volumeFromMetadata(cols, prefix, row, fallback) {
  let bv = null;
  if (cols[`${prefix}BOUNDING_REGION`]) bv = { region: cols[`${prefix}BOUNDING_REGION`](row) };
  else if (cols[`${prefix}BOUNDING_BOX`]) bv = { box: cols[`${prefix}BOUNDING_BOX`](row) };
  else if (cols[`${prefix}BOUNDING_SPHERE`]) bv = { sphere: cols[`${prefix}BOUNDING_SPHERE`](row) };
  const minH = cols[`${prefix}MINIMUM_HEIGHT`], maxH = cols[`${prefix}MAXIMUM_HEIGHT`];
  if ((minH || maxH) && (bv?.region || (!bv && fallback?.region))) {
    const r = (bv?.region ?? fallback.region).slice();
    if (minH) r[4] = minH(row);
    if (maxH) r[5] = maxH(row);
    bv = { region: r };
  }
  return bv;
}

/** Loads the tileset's metadata schema (inline `schema` or `schemaUri`), or null. */
function loadSchema(tilesetJson, dir, report) {
  if (tilesetJson.schema) return tilesetJson.schema;
  if (typeof tilesetJson.schemaUri === 'string') {
    try {
      return JSON.parse(fs.readFileSync(path.resolve(dir, tilesetJson.schemaUri), 'utf8'));
    } catch (e) {
      report.error('/schemaUri', `cannot read schema ${tilesetJson.schemaUri}: ${e.message}`);
    }
  }
  return null;
}

/**
 * Expands the implicit root tile `root` (at JSON pointer `ptr`) into explicit tiles.
 * Returns { tile, stats } where tile is the level-0 tile (null when unavailable) and
 * stats counts tiles, contents and subtrees read.
 */
export function expandImplicit(root, tilesetJson, dir, report, ptr) {
  const it = root.implicitTiling;
  const stats = { tiles: 0, contents: 0, subtrees: 0 };
  const octree = it.subdivisionScheme === 'OCTREE';
  if (!octree && it.subdivisionScheme !== 'QUADTREE') {
    report.error(`${ptr}/implicitTiling/subdivisionScheme`, `unknown subdivision scheme ${it.subdivisionScheme}`);
    return { tile: null, stats };
  }
  const rootBv = root.boundingVolume ?? {};
  if (!rootBv.region && !rootBv.box) {
    report.error(`${ptr}/boundingVolume`, 'an implicit root tile needs a region or box bounding volume');
    return { tile: null, stats };
  }
  if (root.children) report.error(`${ptr}/children`, 'an implicit root tile must not have children');
  const N = octree ? 8 : 4, D = octree ? 3 : 2;
  const S = it.subtreeLevels, A = it.availableLevels;
  if (!(S >= 1) || !(A >= 1)) return { tile: null, stats };
  const tileBits = (N ** S - 1) / (N - 1), childBits = N ** S;
  const contents = root.content ? [root.content] : [];
  (root.contents ?? []).forEach((c) => contents.push(c));
  const schema = loadSchema(tilesetJson, dir, report);
  const levelOffset = (l) => (N ** l - 1) / (N - 1);

  function loadSubtree(level, x, y, z) {
    const uri = expandTemplate(it.subtrees.uri, level, x, y, z);
    const file = path.resolve(dir, uri);
    const sptr = `${ptr}/implicitTiling/subtrees(${level}/${x}/${y}${octree ? `/${z}` : ''})`;
    let parsed;
    try {
      parsed = parseSubtree(fs.readFileSync(file));
    } catch (e) {
      report.error(sptr, `subtree ${uri}: ${e.code === 'ENOENT' ? 'file not found' : e.message}`);
      return null;
    }
    stats.subtrees++;
    const { json, bin } = parsed;
    const bufferCache = [];
    const buffer = (i) => {
      if (bufferCache[i] !== undefined) return bufferCache[i];
      const b = json.buffers?.[i];
      let data = null;
      if (b && b.uri === undefined) data = bin;
      else if (b) {
        try { data = fs.readFileSync(path.resolve(path.dirname(file), b.uri)); } catch { data = null; }
      }
      bufferCache[i] = data;
      return data;
    };
    const views = (i) => {
      const v = json.bufferViews?.[i];
      const b = v && buffer(v.buffer);
      if (!b || v.byteOffset + v.byteLength > b.length) return null;
      return new Uint8Array(b.buffer, b.byteOffset + v.byteOffset, v.byteLength);
    };
    const sub = {
      uri, sptr, x, y, z, level,
      tile: availabilityReader(json.tileAvailability, views, tileBits),
      content: contents.map((_, k) => availabilityReader(json.contentAvailability?.[k], views, tileBits)),
      child: availabilityReader(json.childSubtreeAvailability, views, childBits),
      tileCols: {},
      contentCols: contents.map(() => ({})),
      tileRank: null, contentRank: [],
      visited: 0,
    };
    if (!sub.tile.ok) report.error(sptr, `subtree ${uri}: tileAvailability unreadable`);
    contents.forEach((_, k) => {
      if (!sub.content[k].ok) report.error(sptr, `subtree ${uri}: contentAvailability[${k}] missing or unreadable`);
    });
    // rank[i] = number of available elements before bit i (metadata row)
    const rank = (reader) => {
      const r = new Int32Array(tileBits);
      let n = 0;
      for (let i = 0; i < tileBits; i++) { r[i] = n; n += reader.get(i); }
      return r;
    };
    if (json.tileMetadata !== undefined) {
      const table = json.propertyTables?.[json.tileMetadata];
      if (table && table.count !== sub.tile.count) {
        report.error(`${sptr}/propertyTables/${json.tileMetadata}/count`, `subtree ${uri}: tile metadata count ${table.count} != ${sub.tile.count} available tiles`);
      }
      if (table) sub.tileCols = semanticColumns(table, schema, views, report, `${sptr}/propertyTables/${json.tileMetadata}`, TILE_SEMANTICS);
      sub.tileRank = rank(sub.tile);
    }
    (json.contentMetadata ?? []).forEach((ti, k) => {
      const table = json.propertyTables?.[ti];
      if (!table || k >= contents.length) return;
      if (table.count !== sub.content[k].count) {
        report.error(`${sptr}/propertyTables/${ti}/count`, `subtree ${uri}: content metadata count ${table.count} != ${sub.content[k].count} available contents`);
      }
      sub.contentCols[k] = semanticColumns(table, schema, views, report, `${sptr}/propertyTables/${ti}`, CONTENT_SEMANTICS);
      sub.contentRank[k] = rank(sub.content[k]);
    });
    // content available => tile available
    for (let i = 0; i < tileBits; i++) {
      if (sub.tile.get(i)) continue;
      sub.content.forEach((c, k) => {
        if (c.get(i)) report.error(sptr, `subtree ${uri}: content ${k} available at bit ${i} but the tile is not`);
      });
    }
    // child subtree available => its parent tile (last level of this subtree) available
    for (let i = 0; i < childBits; i++) {
      if (!sub.child.get(i)) continue;
      const parentBit = levelOffset(S - 1) + Math.floor(i / N);
      if (!sub.tile.get(parentBit)) report.error(sptr, `subtree ${uri}: child subtree ${i} available but its parent tile is not`);
    }
    return sub;
  }

  function makeTile(sub, level, x, y, z) {
    const l = level - sub.level;
    const div = 2 ** l;
    const local = [x - sub.x * div, y - sub.y * div, z - sub.z * div].slice(0, D);
    const bit = levelOffset(l) + mortonIndex(local);
    if (!sub.tile.get(bit)) return null;
    sub.visited++;
    stats.tiles++;
    const tptr = `${ptr}/implicit/${level}/${x}/${y}${octree ? `/${z}` : ''}`;
    if (level >= A) report.error(tptr, `tile available at level ${level}, but availableLevels is ${A}`);
    const implicitBv = implicitVolume(rootBv, octree, level, x, y, z);
    const row = sub.tileRank ? sub.tileRank[bit] : -1;
    const tile = {
      boundingVolume: (row >= 0 && volumeFromMetadata(sub.tileCols, 'TILE_', row, implicitBv)) || implicitBv,
      geometricError: row >= 0 && sub.tileCols.TILE_GEOMETRIC_ERROR ? sub.tileCols.TILE_GEOMETRIC_ERROR(row) : root.geometricError / 2 ** level,
      children: [],
    };
    Object.defineProperty(tile, '__ptr', { value: tptr });
    const tileContents = [];
    contents.forEach((c, k) => {
      if (!sub.content[k].get(bit) || typeof c.uri !== 'string') return;
      stats.contents++;
      const tc = { uri: expandTemplate(c.uri, level, x, y, z) };
      const crow = sub.contentRank[k] ? sub.contentRank[k][bit] : -1;
      const cbv = crow >= 0 ? volumeFromMetadata(sub.contentCols[k], 'CONTENT_', crow, null) : null;
      if (cbv) tc.boundingVolume = cbv;
      tileContents.push(tc);
    });
    if (root.content && !root.contents) {
      if (tileContents.length) tile.content = tileContents[0];
    } else if (tileContents.length) {
      tile.contents = tileContents;
    }
    for (let c = 0; c < N; c++) {
      const cx = 2 * x + (c & 1), cy = 2 * y + ((c >> 1) & 1), cz = octree ? 2 * z + ((c >> 2) & 1) : 0;
      let child = null;
      if (l + 1 < S) {
        child = makeTile(sub, level + 1, cx, cy, cz);
      } else {
        const cdiv = 2 ** S;
        const clocal = [cx - sub.x * cdiv, cy - sub.y * cdiv, cz - sub.z * cdiv].slice(0, D);
        if (sub.child.get(mortonIndex(clocal))) {
          const csub = loadSubtree(level + 1, cx, cy, cz);
          if (csub) {
            child = makeTile(csub, level + 1, cx, cy, cz);
            if (!child) report.error(csub.sptr, `subtree ${csub.uri}: its root tile is not available`);
            finishSubtree(csub);
          }
        }
      }
      if (child) tile.children.push(child);
    }
    return tile;
  }

  function finishSubtree(sub) {
    if (sub.visited !== sub.tile.count) {
      report.error(sub.sptr, `subtree ${sub.uri}: ${sub.tile.count} tiles available but ${sub.visited} reachable (a tile is available whose parent is not)`);
    }
  }

  const top = loadSubtree(0, 0, 0, 0);
  if (!top) return { tile: null, stats };
  const tile = makeTile(top, 0, 0, 0, 0);
  if (!tile) report.error(top.sptr, `subtree ${top.uri}: the implicit root tile is not available`);
  finishSubtree(top);
  return { tile, stats };
}
