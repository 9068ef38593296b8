#!/usr/bin/env node
// geo_buildings.mjs TILESET_DIR: where each building of the leaf tiles of an explicit
// tileset landed on Earth, as one JSON object per line:
// {"id", "tile", "lon", "lat" (degrees, the centre of its vertices), "hMin", "hMax"
//  (ellipsoidal metres), "east", "north" (its extent in metres along the local east and
//  north axes)}. Positions go through the tile transforms, the glTF node matrices and
// the feature ids of _FEATURE_ID_0 to the "id" column of the property table, so a test
// can compare them with the footprints it wrote. The last line: {"triangles",
// "facesOutside" (triangles with a point inside them outside their tile's region),
// "insideOut" (triangles wound against their normals)}.
import fs from 'node:fs';
import path from 'node:path';
import { parseGlb, readAccessor, bufferViewBytes, forEachNode } from '../../tools/validate/lib/gltf.mjs';
import { identity, multiply, transformPoint, ecefToGeodetic, Y_UP_TO_Z_UP, pointInRegion } from '../../tools/validate/lib/geometry.mjs';

const dir = process.argv[2];
const tileset = JSON.parse(fs.readFileSync(path.join(dir, 'tileset.json'), 'utf8'));

/** The strings of a STRING property of a property table. */
function stringColumn(gltf, bin, table, name) {
  const p = table.properties?.[name];
  if (!p) return null;
  const values = bufferViewBytes(gltf, bin, p.values);
  const offsBytes = bufferViewBytes(gltf, bin, p.stringOffsets);
  const wide = (p.stringOffsetType ?? 'UINT32') === 'UINT32';
  const dv = new DataView(offsBytes.buffer, offsBytes.byteOffset, offsBytes.byteLength);
  const off = (i) => (wide ? dv.getUint32(i * 4, true) : dv.getUint16(i * 2, true));
  const out = [];
  for (let i = 0; i < table.count; i++) out.push(new TextDecoder().decode(values.subarray(off(i), off(i + 1))));
  return out;
}

// Triangles whose winding (counter-clockwise seen from the front, glTF's default) does
// not agree with their vertices' normals: a viewer culls their front faces.
let insideOut = 0, triangles = 0, facesOut = 0;
// Points inside the faces (each triangle's centre and edge midpoints, world positions
// through m) outside the tile's region: the validator checks only the vertices.
function countFacesOutside(gltf, bin, prim, pos, m, region) {
  if (!region || prim.indices === undefined) return;
  const idx = readAccessor(gltf, bin, prim.indices).data;
  const p = (i) => [pos.data[3 * i], pos.data[3 * i + 1], pos.data[3 * i + 2]];
  const mix = (ws, ps) => [0, 1, 2].map((k) => ps.reduce((s, q, j) => s + ws[j] * q[k], 0));
  for (let t = 0; t + 2 < idx.length; t += 3) {
    const ps = [p(idx[t]), p(idx[t + 1]), p(idx[t + 2])];
    const samples = [mix([1 / 3, 1 / 3, 1 / 3], ps), mix([0.5, 0.5, 0], ps), mix([0, 0.5, 0.5], ps), mix([0.5, 0, 0.5], ps)];
    if (samples.some((q) => !pointInRegion(ecefToGeodetic(...transformPoint(m, ...q)), region, 1e-10, 1e-3))) facesOut++;
  }
}
function countInsideOut(gltf, bin, prim, pos) {
  if (prim.indices === undefined || prim.attributes.NORMAL === undefined) return;
  const idx = readAccessor(gltf, bin, prim.indices).data;
  const nrm = readAccessor(gltf, bin, prim.attributes.NORMAL).data;
  const p = (i, k) => pos.data[3 * i + k];
  for (let t = 0; t + 2 < idx.length; t += 3) {
    const [a, b, c] = [idx[t], idx[t + 1], idx[t + 2]];
    const u = [0, 1, 2].map((k) => p(b, k) - p(a, k)), v = [0, 1, 2].map((k) => p(c, k) - p(a, k));
    const cr = [u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]];
    const d = [0, 1, 2].reduce((s, k) => s + cr[k] * (nrm[3 * a + k] + nrm[3 * b + k] + nrm[3 * c + k]), 0);
    triangles++;
    if (d < 0) insideOut++;
  }
}

function buildingsOf(file, tileMatrix, region) {
  const { json: gltf, bin } = parseGlb(fs.readFileSync(path.join(dir, file)));
  const table = gltf.extensions?.EXT_structural_metadata?.propertyTables?.[0];
  const ids = table ? stringColumn(gltf, bin, table, 'id') : null;
  const byFeature = new Map();
  forEachNode(gltf, (_, node, world) => {
    if (node.mesh === undefined || node.extensions?.EXT_mesh_gpu_instancing) return; // (assets: not buildings)
    const m = multiply(multiply(tileMatrix, Y_UP_TO_Z_UP), world); // 3D Tiles: glTF is y-up
    for (const prim of gltf.meshes[node.mesh].primitives) {
      const pos = readAccessor(gltf, bin, prim.attributes.POSITION);
      const fid = prim.attributes._FEATURE_ID_0 !== undefined ? readAccessor(gltf, bin, prim.attributes._FEATURE_ID_0) : null;
      countInsideOut(gltf, bin, prim, pos);
      countFacesOutside(gltf, bin, prim, pos, m, region);
      for (let i = 0; i < pos.count; i++) {
        const f = fid ? fid.data[i] : 0;
        if (!byFeature.has(f)) byFeature.set(f, []);
        byFeature.get(f).push(transformPoint(m, pos.data[3 * i], pos.data[3 * i + 1], pos.data[3 * i + 2]));
      }
    }
  });
  for (const [f, pts] of [...byFeature].sort((a, b) => a[0] - b[0])) {
    const c = [0, 1, 2].map((k) => pts.reduce((s, p) => s + p[k], 0) / pts.length);
    const [lon, lat] = ecefToGeodetic(...c);
    const east = [-Math.sin(lon), Math.cos(lon), 0];
    const north = [-Math.sin(lat) * Math.cos(lon), -Math.sin(lat) * Math.sin(lon), Math.cos(lat)];
    const along = (axis) => pts.map((p) => axis.reduce((s, a, k) => s + a * (p[k] - c[k]), 0));
    const span = (v) => Math.max(...v) - Math.min(...v);
    const hs = pts.map((p) => ecefToGeodetic(...p)[2]);
    console.log(JSON.stringify({
      id: ids ? ids[f] : f, tile: file, lon: (lon * 180) / Math.PI, lat: (lat * 180) / Math.PI,
      hMin: Math.min(...hs), hMax: Math.max(...hs), east: span(along(east)), north: span(along(north)),
    }));
  }
}

(function walk(tile, parent) {
  const m = tile.transform ? multiply(parent, tile.transform) : parent;
  if (!tile.children?.length && tile.content?.uri?.endsWith('.glb')) buildingsOf(tile.content.uri, m, tile.boundingVolume?.region);
  for (const c of tile.children ?? []) walk(c, m);
})(tileset.root, identity());
console.log(JSON.stringify({ triangles, facesOutside: facesOut, insideOut }));
