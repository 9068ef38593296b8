# `citytiler info`: a LAS file's header as JSON (counts by class with --classes, matching
# the header's total), LAZ as its LAS twin, an OGR source's layers, and clear refusals (unknown files).
. "$(dirname "$0")/common.bash"
las="$SRC/data-samples/delft/delft_ahn3_every4th_epsg28992.las"
"$CLI" info "$las" --classes > "$WORK/las.json" 2> "$WORK/las.err"
check "info on a LAS file: exit 0" test $? -eq 0
node -e 'const j = require(process.argv[1]);
  const total = Object.values(j.classes).reduce((a, b) => a + b, 0);
  const ok = j.version === "1.2" && j.point_format === 1 && j.point_count === 212236 && total === j.point_count &&
    j.crs.epsg_horizontal === 28992 && j.crs.epsg_vertical === 5709 && j.classes["6"] > 0 && j.bounds.min.length === 3;
  process.exit(ok ? 0 : 1)' "$WORK/las.json"
check "LAS info: version, format, 212236 points, CRS 28992+5709, class counts add up" test $? -eq 0
"$CLI" info "$SRC/data-samples/delft/bgt_pand.gpkg" > "$WORK/gpkg.json" 2> "$WORK/gpkg.err"
check "info on a GeoPackage: exit 0" test $? -eq 0
node -e 'const j = require(process.argv[1]); const l = j.layers[0];
  process.exit(j.driver === "GPKG" && l.name === "bgt_pand" && l.feature_count === 160 && l.epsg === 28992 && l.fields.gml_id ? 0 : 1)' "$WORK/gpkg.json"
check "GeoPackage info: layer bgt_pand, 160 features, EPSG:28992, fields" test $? -eq 0
# LAZ: described as its LAS twin is (counts by class decode every point), plus how it is
# compressed.
for laz in "$CT_SHARED_DATA"/laz/liblas_1.2_3.laz "$CT_SHARED_DATA"/laz/laspy_append-bug_pdrf8.laz; do
  twin="$CT_SHARED_DATA/las/$(basename "${laz%.laz}").las"
  name=$(basename "$laz")
  "$CLI" info "$laz" --classes > "$WORK/$name.json" 2> "$WORK/$name.err"
  check "info on $name: exit 0" test $? -eq 0
  "$CLI" info "$twin" --classes > "$WORK/$name.twin.json" 2> /dev/null
  node -e 'const z = require(process.argv[1]), l = require(process.argv[2]);
    const ok = z.laz && z.laz.chunks > 0 && /chunked/.test(z.laz.compressor) && !l.laz &&
      z.point_count === l.point_count && z.point_format === l.point_format &&
      JSON.stringify(z.classes) === JSON.stringify(l.classes);
    process.exit(ok ? 0 : 1)' "$WORK/$name.json" "$WORK/$name.twin.json"
  check "info on $name: its compression, and the point count and class counts of its LAS twin" test $? -eq 0
done
printf 'not a LAS file\n' > "$WORK/junk.bin"
"$CLI" info "$WORK/junk.bin" > /dev/null 2> "$WORK/junk.err"
check "info on junk: exit 2 and names the file" test $? -eq 2 -a -n "$(grep junk.bin "$WORK/junk.err")"
"$CLI" info > /dev/null 2>&1
check "info without FILE: exit 2" test $? -eq 2
# A directory of LAS tiles (readers.lidar takes one): info describes one file at a time.
mkdir -p "$WORK/tiles" && cp "$las" "$WORK/tiles/a.las"
"$CLI" info "$WORK/tiles" > /dev/null 2> "$WORK/dir.err"
check "info on a directory of tiles: exit 2" test $? -eq 2
check "info on a directory of tiles: says to give one of its files" grep -q "a directory: info describes one LAS file at a time" "$WORK/dir.err"
# Why a path cannot be described, where the file says: a missing file, an empty one and
# a .las without the LAS signature all said only "neither ... can open".
: > "$WORK/empty.las"
printf 'LASG not a LAS file' > "$WORK/sig.las"
for c in "missing.las:(No such file or directory)" "empty.las:(an empty file)" \
         "sig.las:(named .las, but its first bytes are not the LAS signature \"LASF\")"; do
  f=${c%%:*} why=${c#*:}
  "$CLI" info "$WORK/$f" > /dev/null 2> "$WORK/why.err"
  check "info on $f: exit 2 (got $?)" test $? -eq 2
  check "info on $f: says why" grep -qF "$f: neither a LAS file nor a vector source GDAL can open $why" "$WORK/why.err"
done
# A field or file name that is not UTF-8 (a Latin-1 CSV) was left out of the JSON without
# a word (jansson refuses it); it is read as Latin-1, as the readers do.
printf 'id,x,y,na\357ve\na1,1,2,3\n' > "$WORK/$(printf 'caf\351').csv"
"$CLI" info "$WORK/$(printf 'caf\351').csv" > "$WORK/latin.json" 2> "$WORK/latin.err"
check "info on a Latin-1 CSV: exit 0" test $? -eq 0
python3 -c 'import json, sys; j = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(not (j["file"].endswith("caf\u00e9.csv") and list(j["layers"][0]["fields"]) == ["id", "x", "y", "na\u00efve"]))' "$WORK/latin.json"
check "info on a Latin-1 CSV: the file name and every field, read as Latin-1" test $? -eq 0
finish
