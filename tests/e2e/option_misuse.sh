# Misuse and extreme options (the third probe round): option values, --set, output paths,
# cell sizes, partitions under mpirun, pipelines missing a stage. Each case: the expected
# exit code, a message naming the file or option and the problem, no sanitizer report,
# nothing left behind on failure; runs that succeed write what the default would.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
S="$SRC/pipelines/sample.json"
sanitizer_clean() { test -f "$1" && test -z "$(grep -E 'Sanitizer|runtime error' "$1")"; }
# sample NAME ARGS...: the sample pipeline into NAME (40 buildings a tile), log NAME.log; rc.
sample() {
  local name=$1; shift
  rm -rf "$name" "$name.partial"
  timeout 300 "$CLI" run "$S" --threads 2 --set "writers.3dtiles.path=$name" "$@" > "$name.log" 2>&1; rc=$?
}
same_tiles() { diff -r -x run-summary.json "$1" "$2" > /dev/null 2>&1; }
sample reference
check "reference run" test "$rc" -eq 0

# An option given as null means its default. Options that stages read as strings crashed
# (strcmp on NULL: compression, tiling, geoid, assets_tileset); others silently took 0 or
# false instead of the default (roof_percentile null: the p0 of the roof points; lod null:
# no HLOD; max_level null: one tile).
for opt in compression tiling geoid assets_tileset lod max_level lod_error_ratio; do
  sample "null_$opt" --set "writers.3dtiles.$opt=null"
  check "null_$opt: exit 0 (got $rc), no sanitizer report" test "$rc" -eq 0 -a -n "$(sanitizer_clean "null_$opt.log" && echo clean)"
  check "null_$opt: the default's tiles" same_tiles reference "null_$opt"
done
sample null_roof_percentile --set filters.heights.roof_percentile=null --set filters.heights.ground_percentile=null
check "null_roof_percentile: exit 0 (got $rc), the default percentiles' tiles" test "$rc" -eq 0 -a -n "$(same_tiles reference null_roof_percentile && echo same)"
printf '%s\n' '{"pipeline": [{"type": "readers.footprints", "path": "fp.geojson", "max_vertices": null}, {"type": "filters.extrude", "height": null}, {"type": "writers.3dtiles", "path": "out", "compression": null}]}' > null_in_file.json
fp fp.geojson "85005 447005 10"
run_as_is null_in_file
check "null_in_file: exit 0 (got $rc), no sanitizer report" test "$rc" -eq 0 -a -n "$(sanitizer_clean null_in_file.log && echo clean)"
run_case null_required 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": null}, $E, $W]}"
check "null_required: a required option cannot be null" has null_required.log \
  "null_required.json: stage 0 (readers.footprints): option 'path' must be a path"
# --set VALUE is JSON when it parses, else text: a directory or layer named 2024 became the
# number 2024, refused as "option 'path' must be a path". For string and path options the
# text is taken. "type" is no option: --set filters.extrude.type=... was taken silently.
rm -rf 2024 && timeout 300 "$CLI" run null_in_file.json --set writers.3dtiles.path=2024 > set_number_path.log 2>&1
rc=$?
check "set_number_path: exit 0 (got $rc), the tileset in ./2024" test "$rc" -eq 0 -a -s 2024/tileset.json
ogr2ogr -f GPKG -nln 2024 layer2024.gpkg fp.geojson > /dev/null 2>&1
printf '%s\n' "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"layer2024.gpkg\", \"layer\": \"x\"}, $E, $W]}" > set_number_layer.json
timeout 300 "$CLI" run set_number_layer.json --set readers.footprints.layer=2024 --set writers.3dtiles.path=set_number_layer-out > set_number_layer.log 2>&1
rc=$?
check "set_number_layer: exit 0 (got $rc), layer '2024' read" test "$rc" -eq 0 -a -s set_number_layer-out/tileset.json
timeout 300 "$CLI" run null_in_file.json --set writers.3dtiles.max_level=true > set_bool_integer.log 2>&1
rc=$?
check "set_bool_integer: a number option still wants a number: exit 2 (got $rc)" test "$rc" -eq 2 -a -n \
  "$(grep -F -- "--set writers.3dtiles.max_level=true: option 'max_level' of writers.3dtiles must be an integer" set_bool_integer.log)"
# A wrong value or an unknown option given with --set is said against the argument: it was
# said against the pipeline file's stage, where the user would look for it in vain.
timeout 300 "$CLI" run null_in_file.json --set filters.extrude.height=tall > set_wrong_type.log 2>&1
rc=$?
check "set_wrong_type: exit 2 (got $rc), said against the argument" test "$rc" -eq 2 -a -n \
  "$(grep -F -- "--set filters.extrude.height=tall: option 'height' of filters.extrude must be a number" set_wrong_type.log)"
timeout 300 "$CLI" run null_in_file.json --set filters.extrude.heigth=20 > set_unknown.log 2>&1
rc=$?
check "set_unknown: exit 2 (got $rc), said against the argument with the options" test "$rc" -eq 2 -a -n \
  "$(grep -F -- "--set filters.extrude.heigth=20: filters.extrude has no option 'heigth' (its options: " set_unknown.log)"
timeout 300 "$CLI" run null_in_file.json --set filters.extrude.type=writers.3dtiles > set_type.log 2>&1
rc=$?
check "set_type: exit 2 (got $rc)" test "$rc" -eq 2
check "set_type: says the type is no option" has set_type.log \
  "--set filters.extrude.type=writers.3dtiles: 'type' is not an option: a stage's type cannot be changed"
# An output path with a trailing slash (as the shell completes a folder): its work
# directory was "out/.partial", inside the output, which then could not be renamed into
# place: exit 1 after the whole run, the tileset left hidden in out/.partial. "." (a run
# from inside an earlier output) likewise; an empty path named the pipeline's folder.
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"slash_out/\"}]}" > trailing_slash.json
run_as_is trailing_slash
check "trailing_slash: exit 0 (got $rc), the tileset in slash_out, no work directory left" \
  test "$rc" -eq 0 -a -s slash_out/tileset.json -a ! -e slash_out/.partial -a ! -e slash_out.partial
printf '%s\n' "{\"pipeline\": [$FP, $E, $W]}" > plain.json
timeout 300 "$CLI" run plain.json --set writers.3dtiles.path=set_slash// > set_trailing_slash.log 2>&1
rc=$?
check "set_trailing_slash: exit 0 (got $rc), the tileset in set_slash" test "$rc" -eq 0 -a -s set_slash/tileset.json -a ! -e set_slash/.partial
(cd set_slash && timeout 300 "$CLI" run ../plain.json --set writers.3dtiles.path=. > ../dot_path.log 2>&1)
rc=$?
check "dot_path: a run inside an earlier output, path '.': exit 0 (got $rc), the tileset replaced" \
  test "$rc" -eq 0 -a -s set_slash/tileset.json -a ! -e set_slash/..partial -a ! -e set_slash.partial
# The pipeline and its footprints inside that output: replacing it would delete them
# (it did): refused, kept.
cp plain.json fp.geojson set_slash/
(cd set_slash && timeout 300 "$CLI" run plain.json --set writers.3dtiles.path=. > ../dot_path_inputs.log 2>&1)
rc=$?
check "dot_path with the inputs inside: exit 2 (got $rc), inputs kept" \
  test "$rc" -eq 2 -a -s set_slash/plain.json -a -s set_slash/fp.geojson -a -s set_slash/tileset.json
check "dot_path with the inputs inside: says which input" has dot_path_inputs.log \
  "stage 0 (readers.footprints) reads '$WORK/set_slash/fp.geojson' (option path), which lies inside the output directory"
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"\"}]}" > empty_path.json
run_as_is empty_path
check "empty_path: exit 2 (got $rc), no work directory left" test "$rc" -eq 2 -a ! -e .partial
check "empty_path: says so" has empty_path.log "empty_path.json: stage 2 (writers.3dtiles): option 'path' is an empty path"
# cell_size (1 to 1000000 m) against readers.lidar's index_size (default 2 m): a cell holds
# 1 to 4096 index squares a side. cell_size 1 or 10000 failed with "out of memory while
# allocating point store", exit 1, after the footprints were read.
mklas ok.las 400 85000 447000
for cs in 1 10000; do
  run_case "cell_size_$cs" 2 "{\"cell_size\": $cs, \"pipeline\": [$FP, $(lidar '"ok.las"'), $H, $E, $W]}"
  check "cell_size_$cs: names the sizes and what fits" has "cell_size_$cs.log" \
    "cell_size_$cs.json: stage 1 (readers.lidar): index_size 2 m does not fit cell_size $cs m: a processing cell holds 1 to 4096 index squares a side, so with this index_size cell_size must be from 2 to 8192 m (or change index_size)"
  check "cell_size_$cs: no stage ran" test -z "$(grep -F 'stage 0: readers.footprints' "cell_size_$cs.log")"
done
run_case cell_size_1_fine 0 "{\"cell_size\": 1, \"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"EPSG:28992\", \"index_size\": 0.5}, $H, $E, $W]}"
run_case cell_size_8192 0 "{\"cell_size\": 8192, \"pipeline\": [$FP, $(lidar '"ok.las"'), $H, $E, $W]}"
# A writer without buildings or meshes before it failed only when it ran, after the LiDAR
# and heights ("building 0 has no mesh: put filters.extrude before the writer"; "nothing to
# write: no footprint was read (see the warnings above)" with no warning above).
run_case no_extrude 2 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $H, $W]}"
check "no_extrude: names the file, the writer and the fix" has no_extrude.log \
  "no_extrude.json: stage 3 (writers.3dtiles) writes meshes, and no filters.extrude before it makes them: put one between readers.footprints (stage 0) and the writer"
check "no_extrude: no stage ran" test -z "$(grep -F 'stage 0: readers.footprints' no_extrude.log)"
run_case no_footprints 2 "{\"pipeline\": [$(lidar '"ok.las"'), $H, $W]}"
check "no_footprints: names the file, the writer and the fix" has no_footprints.log \
  "no_footprints.json: stage 2 (writers.3dtiles) has nothing to write: put a readers.footprints stage (buildings) or a readers.assets stage (assets) before it"
check "no_footprints: no stage ran" test -z "$(grep -F 'stage 0: readers.lidar' no_footprints.log)"
run_case only_writer 2 "{\"pipeline\": [$W]}"
check "only_writer: says so" has only_writer.log "only_writer.json: stage 0 (writers.3dtiles) has nothing to write"
# Assets without footprints make a tileset of the assets alone; one that reads no asset
# (or keeps none) is an error naming it, with nothing left behind.
echo '{"type": "FeatureCollection", "features": []}' > no_assets.geojson
printf 'x,y,z,category\n85000,447000,abc,lamp\n' > bad_assets.csv
rm -rf out out.partial
run_case assets_none 2 "{\"pipeline\": [{\"type\": \"readers.assets\", \"path\": \"no_assets.geojson\", \"srs\": \"EPSG:28992\"}, $W]}"
check "assets_none: says so" has assets_none.log "writers.3dtiles: nothing to write: no footprint stage, and no asset was read (see the warnings above)"
check "assets_none: no output, no work directory" test ! -e out -a ! -e out.partial
run_case assets_all_skipped 2 "{\"pipeline\": [{\"type\": \"readers.assets\", \"path\": \"bad_assets.csv\", \"srs\": \"EPSG:28992\", \"z_field\": \"z\"}, $W]}"
check "assets_all_skipped: says so" has assets_all_skipped.log "writers.3dtiles: nothing to write: 1 asset rows read, all skipped"
# An asset row whose z_field cell is empty has no z: without filters.clamp (or with it, no
# LiDAR and no_ground "skip") it is skipped and counted, the others written; with
# no_ground "flag" and no LiDAR, an error naming it; none with a height: filters.clamp is
# missing. (One such row failed the whole run, naming no row.)
printf 'x,y,id,category,z\n85000,447000,a,tree,1.5\n85010,447010,b,tree,\n85020,447020,c,tree,2\n' > some_z.csv
printf 'x,y,id,category,z\n85000,447000,a,tree,\n85010,447010,b,tree,\n' > no_z.csv
SZ='{"type": "readers.assets", "path": "some_z.csv", "srs": "EPSG:28992", "z_field": "z"}'
run_case z_empty_no_clamp 0 "{\"pipeline\": [$SZ, $W]}"
check "z_empty_no_clamp: names the asset and row, skipped" has z_empty_no_clamp.log \
  "writers.3dtiles: 1 assets have no height (no z of their own, and no filters.clamp placed them; first: asset b, row 3): skipped"
check "z_empty_no_clamp: counted" has z_empty_no_clamp.log "assets: 3 read, 2 kept, 1 skipped"
run_case z_empty_clamp_skip 0 "{\"pipeline\": [$SZ, {\"type\": \"filters.clamp\", \"no_ground\": \"skip\"}, $W]}"
check "z_empty_clamp_skip: names the asset and row, skipped" has z_empty_clamp_skip.log \
  "filters.clamp: 1 assets need the ground (no z of their own; first: asset b, row 3) and there are no LiDAR points: skipped (no_ground \"skip\")"
check "z_empty_clamp_skip: counted" has z_empty_clamp_skip.log "assets: 3 read, 2 kept, 1 skipped"
run_case z_empty_clamp_flag 2 "{\"pipeline\": [$SZ, {\"type\": \"filters.clamp\"}, $W]}"
check "z_empty_clamp_flag: names the asset, the row and the ways out" has z_empty_clamp_flag.log \
  "filters.clamp: 1 assets need the ground (no z of their own; first: asset b, row 3) but there are no LiDAR points: put readers.lidar before it, give them a z (readers.assets z_field), or skip them (no_ground \"skip\")"
run_case z_none_no_clamp 2 "{\"pipeline\": [{\"type\": \"readers.assets\", \"path\": \"no_z.csv\", \"srs\": \"EPSG:28992\", \"z_field\": \"z\"}, $W]}"
check "z_none_no_clamp: filters.clamp missing" has z_none_no_clamp.log \
  "writers.3dtiles: no asset has a height (first: asset a, row 2): put filters.clamp before the writer, or give them a z (readers.assets z_field)"
# Footprints that give no building beside kept assets (a district of a batch with sensors
# and no building): the assets are written, with a warning (it was "nothing to write").
echo '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": null}]}' > null_fp.geojson
printf 'x,y,z,category\n85000,447000,1.5,lamp\n85010,447000,1.5,sensor\n' > z_assets.csv
ZA='{"type": "readers.assets", "path": "z_assets.csv", "srs": "EPSG:28992", "z_field": "z"}'
run_case fp_skipped_assets 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"null_fp.geojson\", \"srs\": \"EPSG:28992\"}, $ZA, $E, $W]}"
check "fp_skipped_assets: says the tileset holds the assets alone" has fp_skipped_assets.log \
  "writers.3dtiles: 1 footprints read, all skipped (see the warnings above): the tileset holds the 2 assets alone"
check "fp_skipped_assets: the assets' tiles written, no building tile" test -s fp_skipped_assets-out/tileset.json -a -d fp_skipped_assets-out/assets -a ! -e fp_skipped_assets-out/tiles
echo '{"type": "FeatureCollection", "features": []}' > empty_fp.geojson
run_case fp_empty_assets 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"empty_fp.geojson\", \"srs\": \"EPSG:28992\"}, $ZA, $E, $W]}"
check "fp_empty_assets: says the tileset holds the assets alone" has fp_empty_assets.log \
  "writers.3dtiles: no footprint was read (see the warnings above): the tileset holds the 2 assets alone"
# An output path too long for the files written under it (4080 characters) failed with
# "File name too long" after the whole run (exit 1); now refused when the pipeline loads,
# nothing made.
long=$(python3 -c "import sys; w = sys.argv[1]; print(w + '/' + '/'.join(['d' * 200] * 20) + '/' + 'e' * (4080 - len(w) - 4021))" "$WORK")
sample long_path --set "writers.3dtiles.path=$long"
check "long_path: exit 2 (got $rc), nothing made" test "$rc" -eq 2 -a ! -e "$WORK/$(python3 -c "print('d' * 200)")"
check "long_path: says so" has long_path.log "output path too long for the files written under it"
name="$WORK/$(python3 -c "print('n' * 250)")"
sample long_name --set "writers.3dtiles.path=$name"
check "long_name: exit 2 (got $rc), a name of 250 characters refused" test "$rc" -eq 2 -a ! -e "$name.partial"
check "long_name: says so" has long_name.log "a name of 250"
# A memory limit below a byte (--memory-limit 1e-9) became 0 bytes, which means no limit:
# every point stayed in memory. It is now the smallest limit: the points go to disk, and
# the tiles are the same.
sample tiny_memory_limit --memory-limit 1e-9 --verbose
check "tiny_memory_limit: exit 0 (got $rc)" test "$rc" -eq 0
check "tiny_memory_limit: the points went to disk" has tiny_memory_limit.log "the rest on disk (memory_limit)"
check "tiny_memory_limit: the same tiles" same_tiles reference tiny_memory_limit
# filters.heights with nothing to measure from (no readers.lidar or readers.raster before
# it, or not the one its source names): it failed when it ran, after the footprints had
# been read. Refused before anything runs.
printf '%s\n' "{\"pipeline\": [$FP, $H, $E, $W]}" > heights_no_input.json
fp fp.geojson "85005 447005 10"
run_as_is heights_no_input
check "heights_no_input: exit 2 (got $rc), nothing read" test "$rc" -eq 2 -a -z "$(grep 'stage 0: readers.footprints' heights_no_input.log)"
check "heights_no_input: says what to put before it" has heights_no_input.log \
  "heights_no_input.json: stage 1 (filters.heights, source \"auto\") has nothing to measure heights from: put readers.lidar (or readers.raster) before it"
sample heights_raster_missing --set filters.heights.source=raster
check "heights_raster_missing: exit 2 (got $rc), names readers.raster" test "$rc" -eq 2 -a -n "$(grep 'put readers.raster before it' heights_raster_missing.log)"
# Options that cannot have their effect are warned, not silently overridden: a max_level
# above the processing cells (tiles still go down to them), and a lod_error_ratio so
# large that no parent tile holds a building.
sample coarse --set writers.3dtiles.max_level=0 --set writers.3dtiles.lod_error_ratio=1 \
  --set writers.3dtiles.max_buildings_per_tile=8
check "coarse: exit 0 (got $rc)" test "$rc" -eq 0
check "coarse: max_level below the cells' level is warned" has coarse.log \
  "writers.3dtiles: max_level 0 would stop above the processing cells, which are tiles of level 1 here (cell_size 250 m)"
check "coarse: parents without any building are warned" has coarse.log \
  "writers.3dtiles: lod: none of the 1 parent tiles holds a building"
check "reference: neither warning" test -z "$(grep -E 'would stop above|none of the .* parent tiles' reference.log)"
# Each asset option out of range is named alone (one message named both, QA).
run_case assets_zero 2 "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"out\", \"max_assets_per_tile\": 0}]}"
check "assets_zero: names max_assets_per_tile and the value" has assets_zero.log \
  "(writers.3dtiles): max_assets_per_tile must be from 1 to 10000000 (got 0)"
run_case assets_where 2 "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"out\", \"assets_tileset\": \"apart\"}]}"
check "assets_where: names assets_tileset and the value" has assets_where.log \
  "(writers.3dtiles): assets_tileset must be \"same\" or \"separate\" (got \"apart\")"
# A vertical_crs PROJ does not know: refused when the pipeline loads, naming stage and
# value (it failed after every stage had run, and PROJ's own line broke a JSON log).
sample vertical_bad --log-format json --set writers.3dtiles.vertical_crs=EPSG:99999
check "vertical_bad: exit 2 (got $rc)" test "$rc" -eq 2
check "vertical_bad: names the stage and the value" has vertical_bad.log \
  "stage 5 (writers.3dtiles): vertical_crs \\\"EPSG:99999\\\" is not a vertical CRS PROJ knows"
check "vertical_bad: no stage ran" test -z "$(grep -F 'stage 0: readers.footprints' vertical_bad.log)"
node -e 'for (const l of require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n")) JSON.parse(l)' vertical_bad.log
check "vertical_bad: every line a JSON record" test $? -eq 0
finish
