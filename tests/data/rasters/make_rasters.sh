#!/bin/sh
# Remakes delft_dsm_1m.tif and delft_dtm_1m.tif from the Delft AHN3 sample.
# Needs python3 (standard library) and gdal_translate (gdal-bin).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/make_rasters.py" "$here/../../../data-samples/delft/delft_ahn3_every4th_epsg28992.las" "$tmp"
for k in dsm dtm; do
  gdal_translate -q -of GTiff -ot Float32 -a_srs EPSG:28992+5709 -a_nodata -9999 \
    -co COMPRESS=DEFLATE -co PREDICTOR=3 -co TILED=YES -co BLOCKXSIZE=128 -co BLOCKYSIZE=128 \
    "$tmp/$k.asc" "$here/delft_${k}_1m.tif"
done
# No .aux.xml side files.
rm -f "$here"/delft_*_1m.tif.aux.xml
