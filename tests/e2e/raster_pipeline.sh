# Heights from DSM/DTM rasters instead of LiDAR points (readers.raster), end to end:
# every building gets raster heights (or a flagged fallback) and the tiles validate.
. "$(dirname "$0")/common.bash"
need_validators
cat > "$WORK/raster.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$SRC/data-samples/delft/bgt_pand.gpkg", "id_field": "gml_id"},
  {"type": "readers.raster", "dsm": "$SRC/tests/data/rasters/delft_dsm_1m.tif", "dtm": "$SRC/tests/data/rasters/delft_dtm_1m.tif"},
  {"type": "filters.heights"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$WORK/tiles"}]}
JSON
"$CLI" run "$WORK/raster.json" > "$WORK/run.log" 2>&1
check "raster pipeline exits 0" test $? -eq 0
check "160 buildings written" grep -q "160 buildings written" "$WORK/run.log"
glb=$(find "$WORK/tiles" -name '*.glb' | head -1)
check "height_source raster in the metadata" grep -aq "raster" "$glb"
check "heights placed through the rasters' vertical CRS (geoid applied)" grep -q "geoid" "$WORK/run.log"
node "$SRC/tools/validate/validate-glb.mjs" "$WORK/tiles" > "$WORK/glb.log" 2>&1
check "GLBs valid" test $? -eq 0
node "$SRC/tools/validate/validate-tileset.mjs" "$WORK/tiles" > "$WORK/ts.log" 2>&1
check "tileset valid" test $? -eq 0
# A DSM and a DTM in tiles, given as GDAL VRTs of them (how pipelines/README says to give
# tiles): the same tiles, byte for byte, as from the whole rasters.
for m in dsm dtm; do
  gdal_translate -q -srcwin 0 0 150 230 "$SRC/tests/data/rasters/delft_${m}_1m.tif" "$WORK/${m}_a.tif" &&
    gdal_translate -q -srcwin 150 0 115 230 "$SRC/tests/data/rasters/delft_${m}_1m.tif" "$WORK/${m}_b.tif" &&
    gdalbuildvrt -q "$WORK/$m.vrt" "$WORK/${m}_a.tif" "$WORK/${m}_b.tif"
done
sed -e "s|$SRC/tests/data/rasters/delft_dsm_1m.tif|$WORK/dsm.vrt|" -e "s|$SRC/tests/data/rasters/delft_dtm_1m.tif|$WORK/dtm.vrt|" \
  -e "s|$WORK/tiles|$WORK/tiles_vrt|" "$WORK/raster.json" > "$WORK/raster_vrt.json"
check "VRT pipeline names the VRTs" grep -q "dtm.vrt" "$WORK/raster_vrt.json"
"$CLI" run "$WORK/raster_vrt.json" > "$WORK/run_vrt.log" 2>&1
check "rasters in tiles through VRTs: exit 0" test $? -eq 0
check "rasters in tiles through VRTs: the same tiles as the whole rasters" diff -r -x run-summary.json "$WORK/tiles" "$WORK/tiles_vrt"
# source "raster" without a readers.raster stage is a usage error (exit 2).
cat > "$WORK/bad.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$SRC/data-samples/delft/bgt_pand.gpkg"},
  {"type": "filters.heights", "source": "raster"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$WORK/bad"}]}
JSON
"$CLI" run "$WORK/bad.json" > "$WORK/bad.log" 2>&1
check "source raster without rasters: exit 2" test $? -eq 2
# A DSM of 2 mm cells (a VRT of the 1 m one: 132500 x 115000 cells): a footprint's window
# of millions of cells was read whole, without bound in time and memory (a VRT of 1e6 x
# 1e6 cells took 10 GB in 30 s). Read at a coarser step now (about 1024 x 1024 cells a
# window): the same roofs within a few decimetres as the 1 m DSM, in bounded memory.
cat > "$WORK/dsm_fine.vrt" <<VRT
<VRTDataset rasterXSize="132500" rasterYSize="115000">
<SRS>EPSG:28992</SRS><GeoTransform>84808, 0.002, 0, 447642, 0, -0.002</GeoTransform>
<VRTRasterBand dataType="Float32" band="1"><ComplexSource><SourceFilename relativetoVRT="0">$SRC/tests/data/rasters/delft_dsm_1m.tif</SourceFilename><SourceBand>1</SourceBand><SrcRect xOff="0" yOff="0" xSize="265" ySize="230"/><DstRect xOff="0" yOff="0" xSize="132500" ySize="115000"/></ComplexSource>
</VRTRasterBand></VRTDataset>
VRT
for v in coarse fine; do
  dsm="$SRC/tests/data/rasters/delft_dsm_1m.tif"
  [ "$v" = fine ] && dsm="$WORK/dsm_fine.vrt"
  sed -e "s|\"id_field\": \"gml_id\"}|\"id_field\": \"gml_id\", \"bbox\": [84900, 447450, 84980, 447530]}|" \
      -e "s|$SRC/tests/data/rasters/delft_dsm_1m.tif|$dsm|" -e "s|$WORK/tiles|$WORK/tiles_$v|" "$WORK/raster.json" > "$WORK/$v.json"
  /usr/bin/time -f "%M" -o "$WORK/$v.rss" "$CLI" run "$WORK/$v.json" > "$WORK/$v.log" 2>&1
  check "DSM $v: exit 0" test $? -eq 0
done
check "DSM of 2 mm cells: 34 buildings, each with a roof from it" grep -q "34 buildings: 0 without enough roof points" "$WORK/fine.log"
check "DSM of 2 mm cells: under 1.5 GB (got $(cat "$WORK/fine.rss") KB)" test "$(cat "$WORK/fine.rss")" -lt 1500000
top() { node -e 'console.log(require(process.argv[1]).root.boundingVolume.region[5])' "$1/tileset.json"; }
check "DSM of 2 mm cells: the highest roof within 0.5 m of the 1 m DSM's ($(top "$WORK/tiles_fine") against $(top "$WORK/tiles_coarse"))" \
  node -e 'process.exit(Math.abs(process.argv[1] - process.argv[2]) <= 0.5 ? 0 : 1)' "$(top "$WORK/tiles_fine")" "$(top "$WORK/tiles_coarse")"

# A DSM cut short (a copy that stopped): the file is named and it is bad input (exit 2),
# not a runtime failure (exit 1); nothing is left at the output path.
head -c 60000 "$SRC/tests/data/rasters/delft_dsm_1m.tif" > "$WORK/cut.tif"
sed -e "s|$SRC/tests/data/rasters/delft_dsm_1m.tif|$WORK/cut.tif|" -e "s|$WORK/tiles|$WORK/tiles_cut|" "$WORK/raster.json" > "$WORK/cut.json"
"$CLI" run "$WORK/cut.json" > "$WORK/cut.log" 2>&1
check "DSM cut short: exit 2 (got $?)" test $? -eq 2
check "DSM cut short: named, damaged or cut short" grep -q "cut.tif: cannot read cells .*: is the file damaged or cut short?" "$WORK/cut.log"
check "DSM cut short: no output" test ! -e "$WORK/tiles_cut" -a ! -e "$WORK/tiles_cut.partial"
finish
