# readers.raster: heights in metres whatever the DTM and DSM store. A raster whose vertical
# CRS is in feet (EPSG:6360, NAVD88 height in US feet) gave roof_z 98.4 for a 30 m roof (its
# values taken as metres), and a DEM stored as integer centimetres with a band scale of 0.01
# gave 3000 (GDAL's scale was not applied). The same terrain (ground 10 m, a 20 x 20 m roof
# at 30 m) is written in metres, in US feet and in scaled centimetres: every version gives
# ground_z 10 and roof_z 30.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
check "gdal_translate available (gdal-bin)" command -v gdal_translate
python3 - <<'PY'
def grid(path, ground, roof, fmt="%.4f"):
    rows = []
    for r in range(100):
        y = 447100 - r - 0.5
        rows.append(" ".join(fmt % (roof if 85040 <= 85000 + c + 0.5 <= 85060 and 447040 <= y <= 447060 else ground)
                             for c in range(100)))
    open(path, "w").write("ncols 100\nnrows 100\nxllcorner 85000\nyllcorner 447000\ncellsize 1\nNODATA_value -9999\n" +
                          "\n".join(rows) + "\n")
ft = 3937.0 / 1200.0  # US survey feet per metre
grid("dtm_m.asc", 10, 10); grid("dsm_m.asc", 10, 30)
grid("dtm_ft.asc", 10 * ft, 10 * ft); grid("dsm_ft.asc", 10 * ft, 30 * ft)
grid("dtm_cm.asc", 1000, 1000, "%d"); grid("dsm_cm.asc", 1000, 3000, "%d")
# Rasters that say their unit only in the band's unit type (no vertical CRS): VRTs over
# grids in international feet, US survey feet and centimetres.
intl = 1 / 0.3048
grid("dtm_intl.asc", 10 * intl, 10 * intl); grid("dsm_intl.asc", 10 * intl, 30 * intl)
def vrt(path, src, unit):
    open(path, "w").write(
        '<VRTDataset rasterXSize="100" rasterYSize="100"><SRS>EPSG:28992</SRS>'
        '<GeoTransform>85000, 1, 0, 447100, 0, -1</GeoTransform>'
        '<VRTRasterBand dataType="Float32" band="1"><NoDataValue>-9999</NoDataValue><UnitType>%s</UnitType>'
        '<SimpleSource><SourceFilename relativeToVRT="1">%s</SourceFilename><SourceBand>1</SourceBand></SimpleSource>'
        '</VRTRasterBand></VRTDataset>\n' % (unit, src))
for k in ("dtm", "dsm"):
    vrt(k + "_unit_ft.vrt", k + "_intl.asc", "ft")
    vrt(k + "_unit_usft.vrt", k + "_ft.asc", "US survey feet")
    vrt(k + "_unit_cm.vrt", k + "_cm.asc", "centimetre")
PY
for k in dtm dsm; do gdal_translate -q -ot Int32 -a_scale 0.01 -a_srs EPSG:28992+5709 "${k}_cm.asc" "${k}_cm.tif"; done
check "scaled rasters made" test -s dtm_cm.tif -a -s dsm_cm.tif
fp fp.geojson "85042 447042 16"
# heights NAME: "ground_z roof_z" of the only building of NAME-out.
heights() { heights_of "$1-out" | cut -d' ' -f1,2; }
# raster NAME DTM DSM [, "srs": ...]
raster() {
  run_case "$1" 0 "{\"pipeline\": [$FP, {\"type\": \"readers.raster\", \"dtm\": \"$2\", \"dsm\": \"$3\"${4:-}}, $H, $E, $W]}"
  check "$1: ground_z 10 and roof_z 30 ($(heights "$1" 2>&1))" test "$(heights "$1" 2>/dev/null)" = "10.000 30.000"
}
raster metres dtm_m.asc dsm_m.asc ', "srs": "EPSG:28992+5709"'
raster us_feet dtm_ft.asc dsm_ft.asc ', "srs": "EPSG:28992+6360"'
check "us_feet: says the heights were converted" has us_feet.log "heights in US survey foot converted to metres"
raster scaled_cm dtm_cm.tif dsm_cm.tif
# The band's unit type, looked up in PROJ's units (a hand-written table knew only metres and
# two feet, so centimetres were taken as metres).
raster unit_ft dtm_unit_ft.vrt dsm_unit_ft.vrt
check "unit_ft: says the heights were converted" has unit_ft.log "heights in ft converted to metres (x 0.3048)"
raster unit_usft dtm_unit_usft.vrt dsm_unit_usft.vrt
check "unit_usft: says the heights were converted" has unit_usft.log "heights in US survey feet converted to metres"
raster unit_cm dtm_unit_cm.vrt dsm_unit_cm.vrt
check "unit_cm: says the heights were converted" has unit_cm.log "heights in centimetre converted to metres (x 0.01)"
finish
