# writers.3dtiles tiling=implicit: the sample pipeline and a 10,000-building synthetic city
# (tools/synthcity, 1 pt/m2) as 3D Tiles 1.1 implicit tilesets (QUADTREE implicitTiling,
# .subtree files with tile metadata). 0 errors from both validators (validate-tileset.mjs
# expands the implicit tree: availability, template URIs, tile-metadata volumes and errors,
# and applies the explicit checks to every tile); subtree files present (several levels of
# subtrees for the city); every building id exactly once in the leaf tiles; the same bytes
# with 1 and 2 threads; HLOD off (ADD) and meshopt compression also valid; bad options exit 2;
# the tile budgets of explicit tiling (max_vertices_per_tile, max_level raised to cell-sized
# tiles with a warning) on a 1,000-building city.
. "$(dirname "$0")/common.bash"
need_validators
SYNTH=$CT_BINARY_DIR/tools/synthcity/synthcity
VAL="$SRC/tools/validate"
json() { node -e "const j = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); console.log($2)" "$1"; }

# ids.mjs DIR: prints "leaves N ids U duplicates D" over the leaf tiles of an implicit tileset.
cat > "$WORK/ids.mjs" << EOF
import fs from 'node:fs';
import path from 'node:path';
import { expandImplicit } from '$VAL/lib/implicit.mjs';
import { parseGlb, bufferViewBytes } from '$VAL/lib/gltf.mjs';
const dir = process.argv[2];
const ts = JSON.parse(fs.readFileSync(path.join(dir, 'tileset.json'), 'utf8'));
const errors = [];
const report = { error: (p, m) => errors.push(p + ': ' + m), note() {}, warning() {} };
const { tile } = expandImplicit(ts.root, ts, dir, report, '/root');
const ids = new Map();
let leaves = 0;
(function walk(t) {
  if (t.children.length) return t.children.forEach(walk);
  leaves++;
  const { json: g, bin } = parseGlb(new Uint8Array(fs.readFileSync(path.join(dir, t.content.uri))));
  const table = g.extensions.EXT_structural_metadata.propertyTables[0];
  const vals = bufferViewBytes(g, bin, table.properties.id.values);
  const offs = bufferViewBytes(g, bin, table.properties.id.stringOffsets);
  const o = new Uint32Array(offs.buffer, offs.byteOffset, table.count + 1);
  for (let i = 0; i < table.count; i++) {
    const id = Buffer.from(vals.subarray(o[i], o[i + 1])).toString('utf8');
    ids.set(id, (ids.get(id) ?? 0) + 1);
  }
})(tile);
const dups = [...ids.values()].filter((n) => n > 1).length;
console.log(\`leaves \${leaves} ids \${ids.size} duplicates \${dups} errors \${errors.length}\`);
errors.forEach((e) => console.log(e));
EOF

# validate NAME DIR: both validators, 0 errors.
validate() {
  local name=$1 out=$2
  node "$VAL/validate-glb.mjs" "$out" > "$WORK/$name-glb.log" 2>&1
  check "$name: Khronos glTF validator, 0 errors ($(tail -1 "$WORK/$name-glb.log"))" test $? -eq 0
  node "$VAL/validate-tileset.mjs" "$out" > "$WORK/$name-tileset.log" 2>&1
  local rc=$?
  grep ERROR "$WORK/$name-tileset.log" | head -20
  check "$name: validate-tileset.mjs, 0 errors (tileset.json + every .subtree, implicit tree expanded)" test $rc -eq 0
  local expanded nglb
  expanded=$(sed -nE 's/.*implicit tiling expanded: ([0-9]+) tiles, ([0-9]+) contents, ([0-9]+) subtrees.*/\1 \2 \3/p' \
    "$WORK/$name-tileset.log")
  nglb=$(find "$out/tiles" -name '*.glb' | wc -l)
  check "$name: the validator expanded the implicit tree ($expanded; $nglb GLBs)" \
    test -n "$expanded" -a "$(echo "$expanded" | cut -d' ' -f2)" = "$nglb"
}

# ---- the sample
out="$WORK/sample"
"$CLI" run "$SRC/pipelines/sample.json" --threads 1 --set "writers.3dtiles.path=$out" \
  --set writers.3dtiles.tiling=implicit > "$WORK/sample.log" 2>&1
check "sample, tiling implicit: exit 0" test $? -eq 0
check "sample: root has implicitTiling (QUADTREE) and a template content URI" test \
  "$(json "$out/tileset.json" 'j.root.implicitTiling.subdivisionScheme + " " + j.root.content.uri + " " + (j.root.children === undefined)')" \
  = "QUADTREE tiles/{level}_{x}_{y}.glb true"
check "sample: tile metadata schema with TILE_BOUNDING_REGION and TILE_GEOMETRIC_ERROR" test \
  "$(json "$out/tileset.json" 'Object.values(j.schema.classes.tile.properties).map(p => p.semantic).join(",")')" \
  = "TILE_BOUNDING_REGION,TILE_GEOMETRIC_ERROR"
check "sample: root subtree written" test -s "$out/subtrees/0_0_0.subtree"
check "sample: subtree magic subt" test "$(head -c 4 "$out/subtrees/0_0_0.subtree")" = "subt"
validate sample "$out"
node "$WORK/ids.mjs" "$out" > "$WORK/sample-ids.log" 2>&1
nb=$(sed -nE 's/.* ([0-9]+) buildings written.*/\1/p' "$WORK/sample.log")
check "sample: every building id once in the leaves ($(head -1 "$WORK/sample-ids.log"); $nb written)" \
  grep -Eq "ids $nb duplicates 0 errors 0$" "$WORK/sample-ids.log"

"$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set "writers.3dtiles.path=$WORK/sample2" \
  --set writers.3dtiles.tiling=implicit > "$WORK/sample2.log" 2>&1
check "sample, 2 threads: exit 0" test $? -eq 0
diff -r -x run-summary.json "$out" "$WORK/sample2" > "$WORK/diff.log" 2>&1
check "sample: --threads 1 and 2 give byte-identical implicit tilesets" test $? -eq 0

"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$WORK/add" --set writers.3dtiles.tiling=implicit \
  --set writers.3dtiles.lod=false --set writers.3dtiles.subtree_levels=1 > "$WORK/add.log" 2>&1
check "sample, lod false (ADD), subtree_levels 1: exit 0" test $? -eq 0
check "sample, lod false: refine ADD" test "$(json "$WORK/add/tileset.json" 'j.root.refine')" = "ADD"
validate add "$WORK/add"

"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$WORK/meshopt" --set writers.3dtiles.tiling=implicit \
  --set writers.3dtiles.compression=meshopt > "$WORK/meshopt.log" 2>&1
check "sample, meshopt compression: exit 0" test $? -eq 0
validate meshopt "$WORK/meshopt"

# ---- bad options
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$WORK/bad" --set writers.3dtiles.tiling=octree \
  > "$WORK/bad.log" 2>&1
rc=$?
check "tiling octree: exit 2 (got $rc)" test $rc -eq 2
check "tiling octree: message names the option" grep -q 'tiling must be "explicit" or "implicit"' "$WORK/bad.log"
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$WORK/bad" --set writers.3dtiles.tiling=implicit \
  --set writers.3dtiles.subtree_levels=0 > "$WORK/bad2.log" 2>&1
rc=$?
check "subtree_levels 0: exit 2 (got $rc)" test $rc -eq 2
check "nothing written by bad options" test ! -e "$WORK/bad"

# ---- the tile budgets, as in explicit tiling (a 1,000-building city, footprints only).
# max_vertices_per_tile was ignored (implicit: 17 tiles whatever the budget, where explicit
# gave 668 at 100 vertices), and max_level 0 with 1 building a tile gave one tile of all
# 1000 buildings without a word (explicit: warned and raised to the cells' level).
# budget.mjs DIR: "leaves N deepest D worst_vertices V worst_buildings B" over the leaf
# tiles, worst_vertices over the leaves holding more than one building.
cat > "$WORK/budget.mjs" << EOF
import fs from 'node:fs';
import path from 'node:path';
import { expandImplicit } from '$VAL/lib/implicit.mjs';
import { parseGlb } from '$VAL/lib/gltf.mjs';
const dir = process.argv[2];
const ts = JSON.parse(fs.readFileSync(path.join(dir, 'tileset.json'), 'utf8'));
const report = { error: (p, m) => console.log('ERROR ' + p + ': ' + m), note() {}, warning() {} };
const { tile } = expandImplicit(ts.root, ts, dir, report, '/root');
let leaves = 0, deepest = 0, worstV = 0, worstB = 0;
(function walk(t) {
  if (t.children.length) return t.children.forEach(walk);
  leaves++;
  deepest = Math.max(deepest, Number(path.basename(t.content.uri).split('_')[0]));
  const { json: g } = parseGlb(new Uint8Array(fs.readFileSync(path.join(dir, t.content.uri))));
  let v = 0;
  for (const m of g.meshes) for (const p of m.primitives) v += g.accessors[p.attributes.POSITION].count;
  const b = g.extensions.EXT_structural_metadata.propertyTables[0].count;
  worstB = Math.max(worstB, b);
  if (b > 1) worstV = Math.max(worstV, v);
})(tile);
console.log(\`leaves \${leaves} deepest \${deepest} worst_vertices \${worstV} worst_buildings \${worstB}\`);
EOF
if [ ! -x "$SYNTH" ]; then
  fail "$SYNTH not built"
  finish
  exit
fi
"$SYNTH" --buildings 1000 --seed 2 --density 0.05 --out "$WORK/c1k" > "$WORK/synth1k.log" 2>&1
check "synthcity: 1000 buildings" test $? -eq 0
cat > "$WORK/c1k.json" << 'EOF'
{"pipeline": [{"type": "readers.footprints", "path": "c1k/footprints.gpkg", "layer": "buildings", "id_field": "id"},
  {"type": "filters.clean"}, {"type": "filters.extrude"}, {"type": "writers.3dtiles", "path": "c1k_default", "tiling": "implicit"}]}
EOF
# c1k NAME [--set ...]: the 1k city into $WORK/c1k_NAME; budget.mjs's line in c1k_NAME.txt
c1k() {
  local name=$1
  shift
  "$CLI" run "$WORK/c1k.json" --set "writers.3dtiles.path=$WORK/c1k_$name" "$@" > "$WORK/c1k_$name.log" 2>&1
  check "1k city $name: exit 0" test $? -eq 0
  node "$WORK/budget.mjs" "$WORK/c1k_$name" > "$WORK/c1k_$name.txt" 2>&1
}
field() { sed -nE "s/.*$2 ([0-9]+).*/\1/p" "$WORK/c1k_$1.txt"; }
c1k default
c1k v100 --set writers.3dtiles.max_vertices_per_tile=100
c1k ml0 --set writers.3dtiles.max_level=0 --set writers.3dtiles.max_buildings_per_tile=1
n0=$(field default leaves)
nv=$(field v100 leaves)
check "1k city: a vertex budget of 100 splits the tiles ($(cat "$WORK/c1k_v100.txt"); without it $n0 leaves)" \
  test "${nv:-0}" -gt $((4 * ${n0:-1000})) -a "$(field v100 worst_vertices)" -le 100
validate c1k_v100 "$WORK/c1k_v100"
node "$WORK/ids.mjs" "$WORK/c1k_v100" > "$WORK/c1k_v100-ids.log" 2>&1
check "1k city, vertex budget: every building id once in the leaves ($(head -1 "$WORK/c1k_v100-ids.log"))" \
  grep -Eq "ids 1000 duplicates 0 errors 0$" "$WORK/c1k_v100-ids.log"
check "1k city, max_level 0: warned and raised to the level of cell-sized tiles" grep -q \
  "writers.3dtiles: max_level 0 would stop at implicit tiles larger than a processing cell (cell_size 250 m), which they are no longer from level 2 here: max_level is raised to 2" \
  "$WORK/c1k_ml0.log"
check "1k city, max_level 0, 1 building a tile: split down to level 2 ($(cat "$WORK/c1k_ml0.txt"))" \
  test "$(field ml0 deepest)" = 2 -a "$(field ml0 leaves)" -gt 4 -a "$(field ml0 worst_buildings)" -lt 1000
check "1k city, defaults: no max_level warning" test -z "$(grep 'max_level' "$WORK/c1k_default.log")"

# ---- a 10,000-building synthetic city
"$SYNTH" --buildings 10000 --seed 11 --density 1 --out "$WORK/city" > "$WORK/synth.log" 2>&1
check "synthcity: 10000 buildings at 1 pt/m2" test $? -eq 0
cat > "$WORK/city.json" << 'EOF'
{
  "pipeline": [
    {"type": "readers.footprints", "path": "city/footprints.gpkg", "layer": "buildings", "id_field": "id",
     "attributes": ["height", "kind", "storeys"]},
    {"type": "readers.lidar", "path": "city/points.las"},
    {"type": "filters.heights"},
    {"type": "filters.clean"},
    {"type": "filters.extrude"},
    {"type": "writers.3dtiles", "path": "city_tiles", "tiling": "implicit", "subtree_levels": 2}
  ]
}
EOF
"$CLI" run "$WORK/city.json" > "$WORK/city.log" 2>&1
check "city pipeline (footprints + lidar + heights + clean + extrude + implicit writer): exit 0" test $? -eq 0
tail -3 "$WORK/city.log"
nsub=$(find "$WORK/city_tiles/subtrees" -name '*.subtree' | wc -l)
check "city: subtree files at several levels ($nsub)" test "$nsub" -gt 1 -a -s "$WORK/city_tiles/subtrees/0_0_0.subtree" \
  -a -n "$(find "$WORK/city_tiles/subtrees" -name '2_*.subtree' | head -1)"
validate city "$WORK/city_tiles"
node "$WORK/ids.mjs" "$WORK/city_tiles" > "$WORK/city-ids.log" 2>&1
nb=$(sed -nE 's/.* ([0-9]+) buildings written.*/\1/p' "$WORK/city.log")
check "city: $nb buildings written (>= 9900)" test "${nb:-0}" -ge 9900
check "city: every building id once in the leaves ($(head -1 "$WORK/city-ids.log"))" \
  grep -Eq "ids $nb duplicates 0 errors 0$" "$WORK/city-ids.log"
finish
