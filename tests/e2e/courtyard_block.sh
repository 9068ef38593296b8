# A footprint with tens of thousands of holes (a block of courtyards, or a digitising
# accident) among ordinary buildings: the run must cost about its size, never minutes.
# - a square block of 48,000 unit holes: writers.3dtiles within 25 CPU seconds and
#   filters.clean within 4 (under ASan: 12.6 and 1.8 now; 79.5 and 13.0 with the binary
#   of 3518589, which compared every ring's box with every other and ran five
#   meshoptimizer tries with their deviations over the whole block before its hull);
# - a long block, 4 rows of 2,000 holes (8,000): the LOD's deviation was quadratic there
#   (the roof's slivers, a fan as long as the block from each corner); writer within 25
#   CPU-s (9.9 now under ASan; the binary of 3518589 was stopped after 5 CPU-minutes);
# - both: every GLB valid (Khronos glTF validator), the tileset valid against the 3D
#   Tiles schema, the block in a parent tile; the long block: the same bytes with 1 and 2
#   threads (determinism.sh covers the rest).
. "$(dirname "$0")/common.bash"
need_validators
cd "$WORK" || exit 1
CLEAN_CPU=4

# block.geojson: the block of H holes in R rows (R 0: square) and 24 small buildings west
# of it, EPSG:28992.
make_block() { # file holes rows
  node -e '
    const [file, h, rows0] = [process.argv[1], +process.argv[2], +process.argv[3]];
    const rows = rows0 > 0 ? rows0 : Math.ceil(Math.sqrt(h)), cols = Math.ceil(h / rows);
    const x0 = 85000, y0 = 446000, w = 2 * cols + 2, ht = 2 * rows + 2;
    const rings = [[[x0, y0], [x0 + w, y0], [x0 + w, y0 + ht], [x0, y0 + ht], [x0, y0]]];
    for (let k = 0; k < h; k++) {
      const x = x0 + 2 + 2 * (k % cols), y = y0 + 2 + 2 * Math.floor(k / cols);
      rings.push([[x, y], [x, y + 1], [x + 1, y + 1], [x + 1, y], [x, y]]);
    }
    const f = [{type: "Feature", properties: {id: "block"}, geometry: {type: "Polygon", coordinates: rings}}];
    for (let b = 0; b < 24; b++) {
      const bx = x0 - 200 + 25 * (b % 6), by = y0 + 25 * Math.floor(b / 6);
      f.push({type: "Feature", properties: {id: "b" + b}, geometry: {type: "Polygon",
        coordinates: [[[bx, by], [bx + 12, by], [bx + 12, by + 9], [bx, by + 9], [bx, by]]]}});
    }
    require("fs").writeFileSync(file, JSON.stringify({type: "FeatureCollection", features: f}));
  ' "$1" "$2" "$3"
}

# A stage's CPU seconds in a run summary.
stage_cpu() { # summary type
  node -e 'const s = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const st = s.stages.find((x) => x.type === process.argv[2]);
    console.log(st && typeof st.cpu_seconds === "number" ? st.cpu_seconds.toFixed(2) : "none")' "$1" "$2"
}
# 0 when $1 is a number no more than $2
under() { node -e 'const v = process.argv[1]; process.exit(/^[0-9.]+$/.test(v) && +v <= +process.argv[2] ? 0 : 1)' "$1" "$2"; }

one_case() { # name holes rows compare-1-thread writer-cpu-bound
  local name=$1 bound=$5
  make_block "$name.geojson" "$2" "$3"
  # (as GeoPackage: GDAL's GeoJSON reader grows a polygon's ring array one ring at a
  # time, which ASan's realloc copies every time: 37 s for 24,000 rings, 0.45 s from GPKG)
  ogr2ogr -f GPKG "$name.gpkg" "$name.geojson" > "$name-ogr.log" 2>&1
  check "$name: footprints generated" test -s "$name.gpkg"
  cat > "$name.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$name.gpkg", "id_field": "id", "srs": "EPSG:28992", "max_vertices": 0},
  {"type": "filters.clean"},
  {"type": "filters.extrude", "height": 12},
  {"type": "writers.3dtiles", "path": "out-$name-2", "max_buildings_per_tile": 8}
]}
JSON
  "$CLI" run "$name.json" --threads 2 -q > "$name-2.log" 2>&1
  check "$name: 2 threads, exit 0" test $? -eq 0
  if [ "$4" = 1 ]; then
    "$CLI" run "$name.json" --threads 1 -q --set writers.3dtiles.path=out-$name-1 > "$name-1.log" 2>&1
    check "$name: 1 thread, exit 0" test $? -eq 0
    check "$name: the same bytes with 1 and 2 threads" diff -r -x run-summary.json "out-$name-1" "out-$name-2"
  fi
  local w c
  w=$(stage_cpu "out-$name-2/run-summary.json" writers.3dtiles)
  c=$(stage_cpu "out-$name-2/run-summary.json" filters.clean)
  echo "$name: writers.3dtiles $w CPU-s, filters.clean $c CPU-s (2 threads)"
  check "$name: writer within $bound CPU-s ($w)" under "$w" "$bound"
  check "$name: clean within $CLEAN_CPU CPU-s ($c)" under "$c" "$CLEAN_CPU"
  check "$name: 25 buildings written" grep -q "25 buildings written" "$name-2.log"
  # the block is in a parent tile (simplified: far fewer bytes than its leaf)
  check "$name: a parent tile holds the block" node -e '
    const fs = require("fs"), t = JSON.parse(fs.readFileSync(process.argv[1] + "/tileset.json"));
    let parents = 0;
    const walk = (n) => { if (n.children && n.content) parents++; (n.children || []).forEach(walk); };
    walk(t.root);
    const glb = fs.readdirSync(process.argv[1] + "/tiles").map((f) => fs.readFileSync(process.argv[1] + "/tiles/" + f));
    const withBlock = glb.filter((b) => b.includes("block")).length;
    process.exit(parents > 0 && withBlock >= 2 ? 0 : 1)' "out-$name-2"
  node "$SRC/tools/validate/validate-glb.mjs" "out-$name-2" > "$name-glb.log" 2>&1
  check "$name: every GLB valid" test $? -eq 0
  node "$SRC/tools/validate/validate-tileset.mjs" "out-$name-2" > "$name-tileset.log" 2>&1
  check "$name: tileset valid" test $? -eq 0
}

one_case square 48000 0 0 25
one_case long 8000 4 1 25
finish
