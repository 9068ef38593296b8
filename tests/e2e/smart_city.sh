# Step 5, the smart-city pipeline end to end (pipelines/smart-city.json: 31 Amsterdam
# buildings, two AHN tiles, 51 street lights / trees / traffic signs as instanced symbols):
#  - three runs: assets beside the buildings ("same"), in DIR/assets/tileset.json
#    ("separate"), and with filters.clamp no_ground=skip (8 assets beyond the LiDAR dropped);
#  - Khronos glTF validator and 3D Tiles schema + structural checks at 0 errors on every
#    tileset (DIR and DIR/assets for the separate one);
#  - the asset GLBs read back (node): every EXT_mesh_gpu_instancing node's instance count
#    (TRANSLATION accessor) matches its EXT_instance_features featureCount and property
#    table; the counts over all asset tiles add up to the CLI's "assets: N read, M kept,
#    K skipped" M, with N == M + K; every input asset id appears exactly once;
#  - heights: every instance's base is finite; z_source/clamp_flag take documented
#    values; the assets inside a LiDAR tile (input attribute ahn_tile set) are clamped on
#    the LiDAR ground with no flag and a ground_z; the flagged ones are the ones the CLI
#    logged; ground_z is within 0.5 m of the median of the LAS ground points (class 2)
#    within 2 m (the LAS files read here, independently of citytiler); and the base of
#    every instance (tile transform x node matrices x instance translation, as ECEF, to
#    an ellipsoidal height) sits at ground_z + one geoid offset (spread <= 5 cm);
#  - the browser test (tools/viewer/browser-test.mjs --pick-asset, headless Chromium):
#    buildings picked as in browser_viewer.sh, then one asset of each symbol aimed at,
#    picked, its id and attributes compared with the GLB; screenshots in $WORK/browser.
# Missing validators, chromium or tools/viewer/node_modules is a failure, never a skip.
. "$(dirname "$0")/common.bash"
need_validators
viewer="$SRC/tools/viewer"
pipeline="$SRC/pipelines/smart-city.json"
validate="$SRC/tools/validate"

# run NAME [--set ...]: the pipeline into $WORK/NAME, log in $WORK/NAME.log.
run() {
  local name=$1
  shift
  "$CLI" run "$pipeline" --set "writers.3dtiles.path=$WORK/$name" "$@" > "$WORK/$name.log" 2>&1
  check "$name: smart-city pipeline exits 0" test $? -eq 0
  check "$name: tileset.json written" test -s "$WORK/$name/tileset.json"
}

# The checks of the asset tiles, in node (the validators' GLB reader).
cat > "$WORK/check-assets.mjs" << 'EOF'
// node check-assets.mjs TILESET.json RUN.log INPUT.geojson LAS... : prints "ok: ..." /
// "FAIL: ..." lines, exit 1 when any check fails.
import fs from 'node:fs';
import path from 'node:path';
const [tilesetFile, logFile, inputFile, ...lasFiles] = process.argv.slice(2);
const lib = process.env.CT_VALIDATE_LIB;
const { parseGlb, readAccessor, bufferViewBytes } = await import(path.join(lib, 'gltf.mjs'));
const { multiply, transformPoint, trsMatrix, nodeMatrix, Y_UP_TO_Z_UP, ecefToGeodetic } = await import(path.join(lib, 'geometry.mjs'));

let failed = 0;
const check = (what, cond, detail = '') => {
  if (cond) console.log(`ok: ${what}`);
  else {
    failed++;
    console.log(`FAIL: ${what}${detail ? `: ${detail}` : ''}`);
  }
  return cond;
};

// The CLI's closing summary and its clamp warnings.
const log = fs.readFileSync(logFile, 'utf8');
// The closing summary ("citytiler:   assets: ..."), not the per-file line of readers.assets.
const summary = /^citytiler:\s+assets: (\d+) read, (\d+) kept, (\d+) skipped/m.exec(log);
if (!check(`CLI closing summary found ("${summary?.[0]}")`, summary)) process.exit(1);
const [nRead, nKept, nSkipped] = summary.slice(1).map(Number);
const loggedFlagged = new Set([...log.matchAll(/filters\.clamp: asset (\S+) \((?:row|feature) \d+\): outside the LiDAR coverage \(/g)].map((m) => m[1]));
const loggedSkipped = new Set([...log.matchAll(/filters\.clamp: asset (\S+) \((?:row|feature) \d+\): skipped: /g)].map((m) => m[1]));

// Property-table columns (strings, scalars; noData not needed for these checks).
function column(json, bin, cls, prop, count) {
  const bytes = bufferViewBytes(json, bin, prop.values);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = [];
  if (cls.type === 'STRING') {
    const ob = bufferViewBytes(json, bin, prop.stringOffsets);
    const od = new DataView(ob.buffer, ob.byteOffset, ob.byteLength);
    const w = { UINT8: 1, UINT16: 2, UINT32: 4 }[prop.stringOffsetType ?? 'UINT32'];
    const get = (i) => (w === 1 ? od.getUint8(i) : w === 2 ? od.getUint16(2 * i, true) : od.getUint32(4 * i, true));
    for (let i = 0; i < count; i++) out.push(new TextDecoder().decode(bytes.subarray(get(i), get(i + 1))));
    return out;
  }
  const g = { FLOAT64: [8, 'getFloat64'], FLOAT32: [4, 'getFloat32'], INT32: [4, 'getInt32'], INT64: [8, 'getBigInt64'] }[cls.componentType];
  if (cls.type !== 'SCALAR' || !g) return null;
  for (let i = 0; i < count; i++) {
    const v = Number(dv[g[1]](i * g[0], true));
    out.push(cls.noData !== undefined && v === cls.noData ? null : v);
  }
  return out;
}

// Every instance of the asset tiles: walk the tileset (transforms accumulated).
const instances = [];
const glbs = [];
const problems = [];
function visitTileset(file) {
  const ts = JSON.parse(fs.readFileSync(file, 'utf8'));
  const dir = path.dirname(file);
  const walk = (tile, parent) => {
    const m = tile.transform ? multiply(parent, tile.transform) : parent;
    const uris = [tile.content, ...(tile.contents ?? [])].filter(Boolean).map((c) => c.uri);
    for (const uri of uris) {
      if (uri.endsWith('.json')) visitTileset(path.join(dir, uri));
      else glb(path.join(dir, uri), m);
    }
    for (const c of tile.children ?? []) walk(c, m);
  };
  walk(ts.root, [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
}
function glb(file, tileMatrix) {
  const { json, bin } = parseGlb(fs.readFileSync(file));
  const meta = json.extensions?.EXT_structural_metadata;
  const nodes = json.nodes ?? [];
  if (!nodes.some((n) => n.extensions?.EXT_mesh_gpu_instancing)) return; // a building tile
  glbs.push(file);
  const classes = meta?.schema?.classes ?? {};
  const visit = (i, parent) => {
    const node = nodes[i];
    const world = multiply(parent, nodeMatrix(node));
    const gi = node.extensions?.EXT_mesh_gpu_instancing;
    if (gi) {
      const t = readAccessor(json, bin, gi.attributes.TRANSLATION);
      const fidSet = node.extensions?.EXT_instance_features?.featureIds?.[0];
      const where = `${path.basename(file)} node ${i} (${node.name})`;
      if (!fidSet) problems.push(`${where}: no EXT_instance_features`);
      const table = meta?.propertyTables?.[fidSet?.propertyTable];
      if (!table) problems.push(`${where}: no property table`);
      if (fidSet && fidSet.featureCount !== t.count) problems.push(`${where}: featureCount ${fidSet.featureCount} != ${t.count} instances`);
      if (table && table.count !== t.count) problems.push(`${where}: property table count ${table.count} != ${t.count} instances`);
      const fids = fidSet?.attribute !== undefined ? readAccessor(json, bin, gi.attributes[`_FEATURE_ID_${fidSet.attribute}`]).data : null;
      if (fids && new Set(fids).size !== t.count) problems.push(`${where}: feature ids are not one per row`);
      const cls = classes[table?.class]?.properties ?? {};
      const cols = {};
      for (const [name, prop] of Object.entries(table?.properties ?? {})) cols[name] = column(json, bin, cls[name], prop, table.count);
      for (let k = 0; k < t.count; k++) {
        const row = fids ? fids[k] : k;
        const p = transformPoint(world, t.data[3 * k], t.data[3 * k + 1], t.data[3 * k + 2]);
        const [, , h] = ecefToGeodetic(...p);
        const attrs = {};
        for (const [name, c] of Object.entries(cols)) attrs[name] = c ? c[row] : undefined;
        // A string property left out of a table (EXT_structural_metadata: omitted = no
        // data) is "" here: the writer omits a table's column when all its values are
        // empty (e.g. clamp_flag of a set with no flagged asset), noData or not.
        for (const [name, p] of Object.entries(cls)) if (!(name in cols) && p.type === 'STRING') attrs[name] = '';
        instances.push({ file: path.basename(file), node: node.name, className: table?.class, h, ecef: p, ...attrs });
      }
    }
    for (const c of node.children ?? []) visit(c, world);
  };
  const root = multiply(tileMatrix, Y_UP_TO_Z_UP);
  const scene = json.scenes?.[json.scene ?? 0];
  for (const i of scene?.nodes ?? []) visit(i, root);
}
visitTileset(tilesetFile);

check(`asset GLBs found in the tileset (${glbs.length})`, glbs.length > 0);
check('every instanced node: featureCount, property-table count and feature ids match its instances',
  problems.length === 0, problems.slice(0, 5).join('; '));
check(`instances over all asset tiles (${instances.length}) == assets kept (${nKept})`, instances.length === nKept);
check(`assets read (${nRead}) == kept (${nKept}) + skipped (${nSkipped})`, nRead === nKept + nSkipped);
check('every instance is of class "asset"', instances.every((a) => a.className === 'asset'));

// Ids: once each, and exactly the input ids minus the skipped ones.
const input = JSON.parse(fs.readFileSync(inputFile, 'utf8')).features.map((f) => ({
  id: String(f.properties?.id ?? f.id), x: f.geometry.coordinates[0], y: f.geometry.coordinates[1], ahn: f.properties.ahn_tile,
}));
const count = new Map();
for (const a of instances) count.set(a.id, (count.get(a.id) ?? 0) + 1);
const dup = [...count].filter(([, n]) => n > 1).map(([id]) => id);
check(`every asset id appears once across the asset tiles (${count.size} ids)`, dup.length === 0 && count.size === instances.length,
  `repeated: ${dup.join(', ')}`);
const expected = input.filter((a) => !loggedSkipped.has(a.id));
const missing = expected.filter((a) => !count.has(a.id)).map((a) => a.id);
const extra = [...count.keys()].filter((id) => !input.some((a) => a.id === id));
check(`the tiles hold exactly the ${expected.length} input ids not skipped (${loggedSkipped.size} skipped as logged)`,
  missing.length === 0 && extra.length === 0 && loggedSkipped.size === nSkipped, `missing ${missing.join(',')}; unknown ${extra.join(',')}`);

// Heights.
check('every instance base is finite (ECEF and height)', instances.every((a) => a.ecef.every(Number.isFinite) && Number.isFinite(a.h)));
const zs = new Set(instances.map((a) => a.z_source));
check(`z_source values documented (${[...zs].join(', ')})`, [...zs].every((v) => ['explicit', 'roof', 'lidar', 'fallback'].includes(v)));
const flags = new Set(instances.map((a) => a.clamp_flag));
check(`clamp_flag values documented (${[...flags].map((f) => `"${f}"`).join(', ')})`,
  [...flags].every((v) => ['', 'outside_lidar', 'no_ground_points', 'not_on_a_building', 'roof_height_unknown'].includes(v)));
const byId = new Map(input.map((a) => [a.id, a]));
const inside = instances.filter((a) => byId.get(a.id)?.ahn);
const badInside = inside.filter((a) => a.z_source !== 'lidar' || a.clamp_flag !== '' || !Number.isFinite(a.ground_z));
check(`the ${inside.length} assets inside a LiDAR tile (ahn_tile set): z_source lidar, no clamp_flag, ground_z present`,
  inside.length > 0 && badInside.length === 0, badInside.map((a) => `${a.id}: ${a.z_source}/${a.clamp_flag}/${a.ground_z}`).join('; '));
const flagged = new Set(instances.filter((a) => a.clamp_flag !== '').map((a) => a.id));
const sameSets = flagged.size === loggedFlagged.size && [...flagged].every((id) => loggedFlagged.has(id));
check(`flagged assets (${[...flagged].join(', ') || 'none'}) are the ones the CLI logged (${[...loggedFlagged].join(', ') || 'none'})`, sameSets);

// The LAS ground (class 2) independently: LAS 1.0-1.4 legacy header fields, PDRF 0-10.
const ground = [];
for (const f of lasFiles) {
  const b = fs.readFileSync(f);
  const off = b.readUInt32LE(96), fmt = b.readUInt8(104) & 0x3f, len = b.readUInt16LE(105);
  let n = b.readUInt32LE(107);
  if (n === 0 && b.readUInt8(25) >= 4) n = Number(b.readBigUInt64LE(247));
  const [sx, sy, sz] = [131, 139, 147].map((o) => b.readDoubleLE(o));
  const [ox, oy, oz] = [155, 163, 171].map((o) => b.readDoubleLE(o));
  for (let i = 0; i < n; i++) {
    const p = off + i * len;
    const cls = fmt >= 6 ? b.readUInt8(p + 16) : b.readUInt8(p + 15) & 0x1f;
    if (cls === 2) ground.push([b.readInt32LE(p) * sx + ox, b.readInt32LE(p + 4) * sy + oy, b.readInt32LE(p + 8) * sz + oz]);
  }
}
check(`LAS ground points read (${ground.length} of class 2 in ${lasFiles.length} files)`, ground.length > 1000);
let compared = 0;
let worst = 0;
const offenders = [];
for (const a of instances.filter((i) => i.clamp_flag === '' && Number.isFinite(i.ground_z))) {
  const p = byId.get(a.id);
  const near = ground.filter(([x, y]) => Math.hypot(x - p.x, y - p.y) <= 2).map((g) => g[2]).sort((u, v) => u - v);
  if (near.length < 3) continue;
  const med = near[near.length >> 1];
  compared++;
  worst = Math.max(worst, Math.abs(a.ground_z - med));
  if (Math.abs(a.ground_z - med) > 0.5) offenders.push(`${a.id}: ground_z ${a.ground_z.toFixed(2)} vs ${med.toFixed(2)}`);
}
check(`ground_z within 0.5 m of the median LAS ground within 2 m (${compared} assets compared, worst ${worst.toFixed(3)} m)`,
  compared >= Math.min(20, inside.length) && offenders.length === 0, offenders.join('; '));
// The base of the instance is at ground_z (+ the geoid: one offset for this small area).
const withGround = instances.filter((a) => Number.isFinite(a.ground_z) && a.z_source !== 'explicit');
const geoid = withGround.map((a) => a.h - a.ground_z);
const lo = Math.min(...geoid), hi = Math.max(...geoid);
check(`instance bases at ground_z + geoid: ellipsoidal height - ground_z in [${lo.toFixed(3)}, ${hi.toFixed(3)}] m for ${withGround.length} assets`,
  withGround.length > 0 && hi - lo <= 0.05 && lo > 38 && hi < 48);
process.exit(failed === 0 ? 0 : 1);
EOF
export CT_VALIDATE_LIB="$validate/lib"

amsterdam="$SRC/data-samples/amsterdam"
las=("$amsterdam/ahn_2386_9702_epsg28992.las" "$amsterdam/ahn_2397_9705_epsg28992.las")
# check_assets NAME TILESET.json
check_assets() {
  node "$WORK/check-assets.mjs" "$2" "$WORK/$1.log" "$amsterdam/poles_trees_signs_epsg28992.geojson" "${las[@]}" > "$WORK/$1-assets.txt" 2>&1
  local rc=$?
  sed "s/^/  $1: /" "$WORK/$1-assets.txt"
  check "$1: asset tiles: counts, ids and heights (log $WORK/$1-assets.txt)" test $rc -eq 0
}
# validators NAME DIR...
validators() {
  local name=$1 dir
  shift
  for dir in "$@"; do
    node "$validate/validate-glb.mjs" "$dir" > "$WORK/$name-glb.log" 2>&1
    check "$name: glTF validator 0 errors on every GLB of ${dir#"$WORK"/} ($(tail -1 "$WORK/$name-glb.log"))" test $? -eq 0
    node "$validate/validate-tileset.mjs" "$dir" > "$WORK/$name-tileset.log" 2>&1
    check "$name: ${dir#"$WORK"/}/tileset.json valid, 3D Tiles 1.1 schema + structure ($(tail -1 "$WORK/$name-tileset.log"))" test $? -eq 0
  done
}

# 1. assets beside the buildings
run same
grep -q '"assets/' "$WORK/same/tileset.json"
check "same: tileset.json references the asset tiles" test $? -eq 0
validators same "$WORK/same"
check_assets same "$WORK/same/tileset.json"

# 2. assets in their own tileset
run separate --set writers.3dtiles.assets_tileset=separate
check "separate: assets/tileset.json written" test -s "$WORK/separate/assets/tileset.json"
! grep -q 'assets/' "$WORK/separate/tileset.json"
check "separate: the buildings' tileset.json does not hold the assets" test $? -eq 0
validators separate "$WORK/separate" "$WORK/separate/assets"
check_assets separate "$WORK/separate/assets/tileset.json"
cmp -s <(cd "$WORK/same/assets" && cat *.glb) <(cd "$WORK/separate/assets" && cat *.glb)
check "separate: the same asset GLBs as beside the buildings" test $? -eq 0

# 3. assets beyond the LiDAR skipped: N read == M kept + K skipped with K > 0
run skip --set filters.clamp.no_ground=skip
grep -q 'citytiler: *assets: 51 read, 43 kept, 8 skipped' "$WORK/skip.log"
check "skip: CLI reports 51 read, 43 kept, 8 skipped ($(grep -o 'citytiler: *assets: [0-9]* read.*' "$WORK/skip.log" | tail -1))" test $? -eq 0
validators skip "$WORK/skip"
check_assets skip "$WORK/skip/tileset.json"

# 3b. assets without buildings (pipelines/assets-only.json: no readers.footprints): the
# tileset is the assets' alone, valid, the same instances, counts, ids and heights as
# beside the buildings; 1 and 2 threads write the same bytes
pipeline_only="$SRC/pipelines/assets-only.json"
for t in 1 2; do
  "$CLI" run "$pipeline_only" --threads $t --set "writers.3dtiles.path=$WORK/only$t" > "$WORK/only$t.log" 2>&1
  check "assets-only ($t threads): exits 0" test $? -eq 0
done
check "assets-only: tileset.json written, no tiles/ folder" test -s "$WORK/only1/tileset.json" -a ! -e "$WORK/only1/tiles"
grep -q '"assets/' "$WORK/only1/tileset.json" && ! grep -q '"tiles/' "$WORK/only1/tileset.json"
check "assets-only: tileset.json holds the asset tiles and no building tile" test $? -eq 0
grep -q 'citytiler: done: no footprints read, 51 assets written' "$WORK/only1.log"
check "assets-only: the closing line says 51 assets written ($(grep 'citytiler: done' "$WORK/only1.log"))" test $? -eq 0
written=$(node -e 'const t = require(process.argv[1]).outputs.tiles; console.log(t.assets_written, t.asset_tiles, t.tiles)' "$WORK/only1/run-summary.json")
check "assets-only: run-summary.json says 51 assets written in their tiles, no building tile (got $written)" \
  test "${written% *}" = "51 $(node -e 'let n = 0; const w = (t) => { n += t.content || t.contents ? 1 : 0; (t.children || []).forEach(w); }; w(require(process.argv[1]).root); console.log(n)' "$WORK/only1/tileset.json")" -a "${written##* }" = 0
validators only "$WORK/only1"
check_assets only1 "$WORK/only1/tileset.json"
diff -r -x run-summary.json "$WORK/only1" "$WORK/only2" > /dev/null
check "assets-only: 1 and 2 threads write the same bytes" test $? -eq 0
# One asset (all in one tile, the root a leaf): its root error must still be positive;
# the same with the assets in their own tileset beside the buildings.
node -e 'const fs = require("fs"); const g = JSON.parse(fs.readFileSync(process.argv[1])); g.features = g.features.slice(0, 1); fs.writeFileSync(process.argv[2], JSON.stringify(g))' \
  "$SRC/data-samples/amsterdam/poles_trees_signs_epsg28992.geojson" "$WORK/one_asset.geojson"
"$CLI" run "$pipeline_only" --set "readers.assets.path=$WORK/one_asset.geojson" --set "writers.3dtiles.path=$WORK/one" > "$WORK/one.log" 2>&1
check "one asset alone: exits 0" test $? -eq 0
validators one "$WORK/one"
"$CLI" run "$pipeline" --set "readers.assets.path=$WORK/one_asset.geojson" --set writers.3dtiles.assets_tileset=separate \
  --set "writers.3dtiles.path=$WORK/one_sep" > "$WORK/one_sep.log" 2>&1
check "one asset, separate tileset: exits 0" test $? -eq 0
validators one_sep "$WORK/one_sep" "$WORK/one_sep/assets"
# (the instances' positions are the same as beside the buildings: their heights do not
# depend on the buildings, as no asset of the sample is on a roof or inside a building)
cmp -s <(cd "$WORK/same/assets" && cat *.glb) <(cd "$WORK/only1/assets" && cat *.glb)
check "assets-only: the same asset GLBs as beside the buildings" test $? -eq 0

# 4. the browser: buildings and assets picked in the viewer
need() {
  fail "$1: run tools/install-deps.sh (apt-get install chromium; npm ci --prefix tools/viewer)"
  finish
  exit 1
}
command -v ogr2ogr > /dev/null 2>&1 || need "ogr2ogr missing (Debian package gdal-bin)"
[ -x /usr/bin/chromium ] || need "/usr/bin/chromium missing (Debian package chromium)"
[ -f "$viewer/node_modules/cesium/Build/Cesium/Cesium.js" ] || need "tools/viewer/node_modules/cesium missing"
[ -d "$viewer/node_modules/playwright-core" ] || need "tools/viewer/node_modules/playwright-core missing"
mkdir -p "$WORK/browser"
node "$viewer/serve.mjs" "$WORK/same" > "$WORK/browser/serve.log" 2>&1 &
server=$!
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$WORK/browser/serve.log" | head -1)
  [ -n "$url" ] && break
  kill -0 "$server" 2> /dev/null || break
  sleep 0.1
done
check "viewer server started ($url)" test -n "$url"
if [ -n "$url" ]; then
  start=$(date +%s)
  timeout 200 node "$viewer/browser-test.mjs" --url "$url" --tileset "$WORK/same" --pipeline "$pipeline" \
    --out "$WORK/browser" --timeout 170 --pick-asset > "$WORK/browser/browser.log" 2>&1
  rc=$?
  grep -v 'GL Driver Message' "$WORK/browser/browser.log" | cut -c1-400 | sed 's/^/  /'
  check "browser test with --pick-asset passes (exit $rc, $(($(date +%s) - start)) s; log $WORK/browser/browser.log)" test "$rc" -eq 0
  check "screenshots written (viewer.png, viewer-asset.png)" test -s "$WORK/browser/viewer.png" -a -s "$WORK/browser/viewer-asset.png"
else
  cat "$WORK/browser/serve.log"
fi
kill "$server" 2> /dev/null
wait "$server" 2> /dev/null
finish
