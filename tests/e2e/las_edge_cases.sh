# LAS files at the edges of what readers.lidar meets in practice: heights in feet, the
# classification flags, several files of different formats. Inputs are generated here
# (python3, no packages). Each case says what a user saw before it was fixed.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"

# mkbox OUT UNIT X0 Y0 [FORMAT [WITHHELD]]: a LAS file around one 10 m square building
# whose lower-left corner is (X0, Y0): ground (class 2) 10 m, roof (class 6) 30 m, one
# point a square metre; coordinates in UNIT (m, or ft: US survey feet). FORMAT 1 (LAS
# 1.2, the default) or 6 (LAS 1.4). WITHHELD 1: each point also has a twin flagged
# withheld, 50 m higher on the roof and 30 m lower on the ground.
mkbox() {
  python3 - "$@" <<'PY'
import struct, sys
out, unit, x0, y0 = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
fmt = int(sys.argv[5]) if len(sys.argv) > 5 else 1
withheld = len(sys.argv) > 6 and sys.argv[6] == "1"
f = 1200 / 3937 if unit == 'ft' else 1.0  # metres per unit
s = 0.01; recs = bytearray(); xs = []; ys = []; zs = []
def rec(x, y, z, c, wh):
    xs.append(x); ys.append(y); zs.append(z)
    X, Y, Z = round(x / s), round(y / s), round(z / s)
    if fmt == 6:  # flags: withheld is bit 2 of the classification flags
        return struct.pack('<iiiHBBBBhHd', X, Y, Z, 0, 0x11, 4 if wh else 0, c, 0, 0, 0, 0.0)
    return struct.pack('<iiiHBBbBHd', X, Y, Z, 0, 9, c | (0x80 if wh else 0), 0, 0, 0, 0.0)  # withheld: bit 7
for i in range(-15, 26):
    for j in range(-15, 26):
        xm, ym = i + 0.5, j + 0.5
        roof = 0 < xm < 10 and 0 < ym < 10
        x, y, z = x0 + xm / f, y0 + ym / f, (30.0 if roof else 10.0) / f
        recs += rec(x, y, z, 6 if roof else 2, False)
        if withheld:
            recs += rec(x, y, z + (50.0 if roof else -30.0) / f, 6 if roof else 2, True)
n = len(xs)
if fmt == 6:
    h = bytearray(375); h[0:4] = b'LASF'; h[24] = 1; h[25] = 4
    struct.pack_into('<HHHIIBHI', h, 90, 1, 2024, 375, 375, 0, 6, 30, 0)
    struct.pack_into('<QIQ', h, 235, 0, 0, n)
else:
    h = bytearray(227); h[0:4] = b'LASF'; h[24] = 1; h[25] = 2
    struct.pack_into('<HHHIIBHI', h, 90, 1, 2024, 227, 227, 0, 1, 28, n)
struct.pack_into('<ddd', h, 131, s, s, s)
struct.pack_into('<dddddd', h, 179, max(xs), min(xs), max(ys), min(ys), max(zs), min(zs))
open(out, 'wb').write(bytes(h) + bytes(recs))
PY
}
# fpbox OUT EPSG UNIT X0 Y0: that building's footprint.
fpbox() {
  python3 - "$@" <<'PY'
import json, sys
out, epsg, unit, x, y = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
s = 10 / (1200 / 3937 if unit == 'ft' else 1.0)
ring = [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::" + epsg}},
           "features": [{"type": "Feature", "properties": {"id": "b1"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}, open(out, "w"))
PY
}
# heights NAME: "ground_z roof_z bottom top" of the only building of NAME-out.
heights() { heights_of "$1-out"; }
# geokeys IN OUT KEY=VALUE...: IN (no VLR) with a GeoTIFF key directory VLR of those keys.
geokeys() {
  python3 - "$@" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
keys = [tuple(map(int, kv.split('='))) for kv in sys.argv[3:]]
d = struct.pack('<4H', 1, 1, 0, len(keys)) + b''.join(struct.pack('<4H', k, 0, 1, v) for k, v in keys)
vlr = struct.pack('<H16sHH32s', 0, b'LASF_Projection', 34735, len(d), b'GeoKeyDirectoryTag') + d
hs, off, n = struct.unpack_from('<HII', b, 94)
h = bytearray(b[:hs]); struct.pack_into('<II', h, 96, off + len(vlr), n + 1)
open(sys.argv[2], 'wb').write(bytes(h) + vlr + b[off:])
PY
}
near() { python3 -c 'import sys; a, b, t = map(float, sys.argv[1:]); sys.exit(abs(a - b) > t)' "$@" 2>/dev/null; }
run_heights() { # run_heights NAME FOOTPRINTS LAS SRS
  run_case "$1" 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$2\"}, {\"type\": \"readers.lidar\", \"path\": \"$3\", \"srs\": \"$4\"}, $H, $E, $W]}"
  read -r g r lo hi <<< "$(heights "$1" 2>/dev/null || echo x x x x)"
}

# Heights in feet (New York: EPSG:2263, NAVD88 height in US feet EPSG:6360). z was used
# as if in metres: a 20 m building came out 65.6 m tall, 3.28x too high, its roof_z and
# ground_z in feet, and placed with the geoid added to feet. Now z is converted to
# metres as it is read: the same model as the metre twin (UTM 18N + NAVD88 in metres).
mkbox m.las m 585675 4512388 && fpbox fp_m.geojson 32618 m 585675 4512388
mkbox ft.las ft 988405 215436 && fpbox fp_ft.geojson 2263 ft 988405 215436
check "feet inputs generated" test -s m.las -a -s ft.las -a -s fp_m.geojson -a -s fp_ft.geojson
run_heights metres fp_m.geojson m.las "EPSG:32618+5703"
mg=$g mlo=$lo mhi=$hi
check "metres: roof_z 30 (got $r)" near "$r" 30 0.05
check "metres: ground_z 10 (got $g)" near "$g" 10 0.05
check "metres: 20 m between bottom and top of the region (got $lo..$hi)" near "$(python3 -c "print($hi - $lo)" 2>/dev/null || echo x)" 20 0.05
for c in "feet_heights fp_ft.geojson" "feet_heights_metre_footprints fp_m.geojson"; do
  set -- $c
  run_heights "$1" "$2" ft.las "EPSG:2263+6360"
  check "$1: roof_z 30 m and ground_z 10 m (got $r and $g)" near "$r" 30 0.05
  check "$1: ground_z in metres (got $g)" near "$g" 10 0.05
  check "$1: region bottom $mlo as in metres (got $lo)" near "$lo" "$mlo" 0.05
  check "$1: region top as in metres (got $hi)" near "$hi" "$mhi" 0.05
  check "$1: says the heights were converted" has "$1.log" "readers.lidar: heights in US survey foot (the LiDAR's vertical CRS) converted to metres"
done
# A 2D CRS in feet says nothing of z: it is taken in feet, with a warning saying so.
run_heights feet_2d fp_ft.geojson ft.las "EPSG:2263"
check "feet_2d: roof_z 30 m and ground_z 10 m (got $r and $g)" near "$r" 30 0.05
check "feet_2d: ground_z in metres (got $g)" near "$g" 10 0.05
check "feet_2d: region 10..30 m (ellipsoidal: no vertical CRS; got $lo..$hi)" near "$hi" 30 0.05
check "feet_2d: warns that z is taken in feet" has feet_2d.log \
  'readers.lidar: the LiDAR CRS has no vertical CRS and its x and y are in US survey foot: z is taken to be in US survey foot too and converted to metres'
# A compound of a CRS in feet with heights in metres: z stays as it is.
mkbox ftm.las m 0 0 && python3 - <<'PY'
import struct
# the metre file's x, y moved into EPSG:2263 feet, z left in metres
b = bytearray(open("ftm.las", "rb").read())
f = 1200 / 3937
n = struct.unpack_from("<I", b, 107)[0]
for i in range(n):
    o = 227 + 28 * i
    x, y = struct.unpack_from("<ii", b, o)
    struct.pack_into("<ii", b, o, round((988405 + x * 0.01 / f) / 0.01), round((215436 + y * 0.01 / f) / 0.01))
open("ftm.las", "wb").write(b)
PY
run_heights feet_xy_metre_z fp_ft.geojson ftm.las "EPSG:2263+5703"
check "feet_xy_metre_z: roof_z 30 m (got $r)" near "$r" 30 0.05
check "feet_xy_metre_z: ground_z 10 m (got $g)" near "$g" 10 0.05
check "feet_xy_metre_z: region as in metres (got $lo..$hi)" near "$hi" "$mhi" 0.05
check "feet_xy_metre_z: no conversion said" test -z "$(grep -F 'converted to metres' feet_xy_metre_z.log)"
# The CRS in the file's GeoTIFF keys: NAVD88 in feet (6360), or NAVD88 (5703, a CRS in
# metres) with VerticalUnitsGeoKey (4099) saying US survey feet (9003), as much US LiDAR
# is written. The unit key was ignored: z in feet was taken as metres (65.6 m tall).
geokeys ft.las ft_6360.las 1024=1 3072=2263 4096=6360
geokeys ft.las ft_5703_units.las 1024=1 3072=2263 4096=5703 4099=9003
for c in ft_6360 ft_5703_units; do
  run_case "$c" 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_ft.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"$c.las\"}, $H, $E, $W]}"
  read -r g r lo hi <<< "$(heights "$c" 2>/dev/null || echo x x x x)"
  check "$c: roof_z 30 m and ground_z 10 m (got $r and $g)" near "$r" 30 0.05
  check "$c: ground_z in metres (got $g)" near "$g" 10 0.05
  check "$c: region top as in metres (got $hi)" near "$hi" "$mhi" 0.05
done
check "ft_5703_units: says which unit the key gave" has ft_5703_units.log \
  "ft_5703_units.las: GeoTIFF VerticalUnitsGeoKey 9003 (US survey foot) for vertical CRS EPSG:5703 (in metre): heights taken in US survey foot"
# No vertical CRS but VerticalUnitsGeoKey: z is in the unit the key names, not in that of
# x and y (feet x, y with metre z; metre x, y with feet z, as the laspy and PDAL samples
# laspy_file_with_both_wkt_and_geotiff_vlrs.las and pdal_mvk-thin.las are written).
geokeys ftm.las ftxy_mz.las 1024=1 3072=2263 4099=9001
python3 - <<'PY'
import struct
b = bytearray(open("m.las", "rb").read())  # metre x, y; z into US feet
f = 1200 / 3937
for i in range(struct.unpack_from("<I", b, 107)[0]):
    o = 227 + 28 * i + 8
    struct.pack_into("<i", b, o, round(struct.unpack_from("<i", b, o)[0] / f))
for o in (211, 219):  # the header's max and min z, in feet too (else they no longer hold the points)
    struct.pack_into("<d", b, o, struct.unpack_from("<d", b, o)[0] / f)
open("mxy_ftz_raw.las", "wb").write(b)
PY
geokeys mxy_ftz_raw.las mxy_ftz.las 1024=1 3072=32618 4099=9003
for c in "ftxy_mz fp_ft.geojson" "mxy_ftz fp_m.geojson"; do
  set -- $c
  run_case "$1" 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$2\"}, {\"type\": \"readers.lidar\", \"path\": \"$1.las\"}, $H, $E, $W]}"
  read -r g r lo hi <<< "$(heights "$1" 2>/dev/null || echo x x x x)"
  check "$1: roof_z 30 m (got $r)" near "$r" 30 0.05
  check "$1: ground_z 10 m (got $g)" near "$g" 10 0.05
done
# Several files without a vertical CRS whose VerticalUnitsGeoKeys differ (feet and
# metres): the first file's key was applied to all, and the metre file's roofs came out
# 3.28x too low. Refused now, naming both. A file without the key among files with one
# is taken in their unit, with a warning (as a file without CRS is).
mkdir -p keys_differ keys_missing && cp mxy_ftz.las keys_differ/a.las && geokeys m.las keys_differ/b.las 1024=1 3072=32618 4099=9001
run_case keys_differ 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"keys_differ\"}, $H, $E, $W]}"
check "keys_differ: names both files and both units" has keys_differ.log \
  "keys_differ/a.las and $WORK/keys_differ/b.las give z in different units (GeoTIFF VerticalUnitsGeoKey: 0.3048006096 m vs 1 m a unit)"
cp mxy_ftz.las keys_missing/a.las && geokeys mxy_ftz_raw.las keys_missing/b.las 1024=1 3072=32618
run_case keys_missing 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"keys_missing\"}, $H, $E, $W]}"
read -r g r lo hi <<< "$(heights keys_missing 2>/dev/null || echo x x x x)"
check "keys_missing: roof_z 30 m and ground_z 10 m from both feet files (got $r and $g)" near "$r" 30 0.05
check "keys_missing: ground_z 10 m (got $g)" near "$g" 10 0.05
check "keys_missing: warns that b.las is taken in a.las's unit" has keys_missing.log \
  "keys_missing/b.las has no VerticalUnitsGeoKey: its z is taken in the unit of $WORK/keys_missing/a.las's (0.3048006096 m)"
# A header whose x scale is damaged (1e300: every point at infinity, far outside the
# header's own bounds): the run went on, warning that the LiDAR is of another area, and
# gave every building a fallback height. Now refused, naming the file and the damage.
python3 - <<'PY'
import struct
b = bytearray(open("m.las", "rb").read())
struct.pack_into("<d", b, 131, 1e300)
open("x_scale_1e300.las", "wb").write(b)
PY
run_case damaged_scale 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"x_scale_1e300.las\", \"srs\": \"EPSG:32618+5703\"}, $H, $E, $W]}"
check "damaged_scale: names the file and the damaged header" has damaged_scale.log \
  "x_scale_1e300.las: its points lie far outside its own header's bounds (point 0 at x 5.8566e+307"
check "damaged_scale: and the scale" has damaged_scale.log "the header's scale or offset fields are damaged (scale 1e+300 0.01 0.01"
# Two files whose CRSs differ only in the vertical part (NAVD88 in feet and in metres):
# refused, said as "different CRSs (EPSG:2263 vs EPSG:2263)". Now the codes are whole.
mkdir -p two_vertical && cp ft_6360.las two_vertical/a.las && geokeys ft.las two_vertical/b.las 1024=1 3072=2263 4096=5703
run_case two_vertical 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_ft.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"two_vertical\"}, $H, $E, $W]}"
check "two_vertical: names both files and both CRSs whole" has two_vertical.log \
  "two_vertical/a.las and $WORK/two_vertical/b.las have different CRSs (EPSG:2263+6360 vs EPSG:2263+5703); reproject them to one CRS first"
# Files of one survey where some carry the vertical CRS and some only the horizontal one
# (QA: refused as "different CRSs (EPSG:28992 vs EPSG:28992+5709)", while a file without
# any CRS was taken with a warning): taken in the others' vertical CRS, with a warning,
# whichever file comes first.
mkdir -p horiz_last horiz_first && cp ft_6360.las horiz_last/a.las && geokeys ft.las horiz_last/b.las 1024=1 3072=2263
geokeys ft.las horiz_first/a.las 1024=1 3072=2263 && cp ft_6360.las horiz_first/b.las
for c in horiz_last horiz_first; do
  run_case $c 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_ft.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"$c\"}, $H, $E, $W]}"
  read -r g r lo hi <<< "$(heights $c 2>/dev/null || echo x x x x)"
  check "$c: roof_z 30 m and ground_z 10 m from both files (got $r and $g)" near "$r" 30 0.05
  check "$c: ground_z 10 m (got $g)" near "$g" 10 0.05
done
check "horiz_last: warns that b.las gives only the horizontal CRS" has horiz_last.log \
  "horiz_last/b.las gives only the horizontal part of the CRS of $WORK/horiz_last/a.las: assuming its heights are in the same vertical CRS"
check "horiz_first: warns that a.las gives only the horizontal CRS" has horiz_first.log \
  "horiz_first/a.las gives only the horizontal part of the CRS of $WORK/horiz_first/b.las: assuming its heights are in the same vertical CRS"
# srs that cannot place the points. A vertical CRS alone failed on the first chunk as
# "cannot transform points 0..1680 into the working CRS (PROJ: utm: Invalid latitude)";
# an unknown code had GDAL print "ERROR 1: PROJ: proj_create_from_database: crs not
# found" beside the message. The same for a file whose GeoTIFF keys hold only a
# vertical CRS.
run_case srs_vertical_only 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"m.las\", \"srs\": \"EPSG:5703\"}, $H, $E, $W]}"
check "srs_vertical_only: says the srs has no horizontal part" has srs_vertical_only.log \
  "readers.lidar: srs: CRS 'EPSG:5703' has no horizontal part (a vertical CRS only): give the horizontal CRS of the points"
geokeys m.las vertical_only.las 4096=5703
run_case file_vertical_only 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"vertical_only.las\"}, $H, $E, $W]}"
check "file_vertical_only: names the file, says the CRS has no horizontal part" has file_vertical_only.log \
  "vertical_only.las: CRS '"
check "file_vertical_only: ... (a vertical CRS only)" has file_vertical_only.log "has no horizontal part (a vertical CRS only)"
run_case srs_unknown 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"m.las\", \"srs\": \"EPSG:99999\"}, $H, $E, $W]}"
check "srs_unknown: says the srs is not understood" has srs_unknown.log "readers.lidar: srs: CRS 'EPSG:99999' is not understood by GDAL/PROJ"
check "srs_unknown: GDAL prints nothing besides" test -z "$(grep '^ERROR' srs_unknown.log)"

# Withheld points (the LAS flag meaning "not to be used", synonymous with deleted) were
# used like any other: with a withheld twin of each point the roof came out at 80 m and
# the ground at -20 m. Now they are not kept, in both point layouts (formats 0-5: bit 7
# of the class byte; 6-10: bit 2 of the classification flags), whether the points are
# binned from the raw records (same CRS) or decoded and reprojected (UTM on NAD83).
for fmt in 1 6; do
  mkbox "withheld$fmt.las" m 585675 4512388 "$fmt" 1
  for srs in EPSG:32618 EPSG:26918; do
    name=withheld_format${fmt}_${srs#EPSG:}
    run_heights "$name" fp_m.geojson "withheld$fmt.las" "$srs"
    check "$name: roof_z 30 (got $r)" near "$r" 30 0.05
    check "$name: ground_z 10 (got $g)" near "$g" 10 0.05
  done
done
# keep_withheld: true keeps them (the roof's 90th percentile then lies among the twins).
run_case withheld_kept 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"withheld6.las\", \"srs\": \"EPSG:32618\", \"keep_withheld\": true}, $H, $E, $W]}"
read -r g r lo hi <<< "$(heights withheld_kept 2>/dev/null || echo x x x x)"
check "withheld_kept: roof_z 80 (got $r)" near "$r" 80 0.05

# A directory of tiles around the footprints' area (a council's LiDAR archive): the
# files whose header bounds lie outside the footprints' extent plus crop_margin are
# passed over unread. One was read through, every point cropped away. A file whose
# header bounds are stale (they say 10 km away, its points lie under the building) is
# read: the header is trusted only when a sample of its points lies within its bounds.
mkbox far.las m 595675 4522388
python3 - <<'PY'
import struct
far = open("far.las", "rb").read()
b = bytearray(open("m.las", "rb").read())
b[179:227] = far[179:227]  # the far file's bounds over the near file's points
open("stale_bounds.las", "wb").write(b)
PY
mkdir -p tiles_dir && cp m.las tiles_dir/a.las && cp far.las tiles_dir/b.las
# (and the "._a.las" a Mac leaves beside a.las on a shared disk: not LAS, it failed the run)
printf '\0\5\26\7\0\2\0\0Mac OS X        ' > tiles_dir/._a.las
for c in "tiles_dir tiles_dir 1" "stale_bounds stale_bounds.las 0" "stale_and_far [\"stale_bounds.las\",\"far.las\"] 1"; do
  set -- $c
  p=$2; case $p in \[*) ;; *) p="\"$p\"" ;; esac
  run_case "$1" 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": $p, \"srs\": \"EPSG:32618+5703\"}, $H, $E, $W]}"
  read -r g r lo hi <<< "$(heights "$1" 2>/dev/null || echo x x x x)"
  check "$1: roof_z 30 and ground_z 10 (got $r and $g)" near "$r" 30 0.05
  check "$1: ground_z 10 (got $g)" near "$g" 10 0.05
  if [ "$3" = 1 ]; then
    check "$1: says the far file was passed over" has "$1.log" \
      "readers.lidar: 1 of the 2 files (1681 points) passed over unread: their header's bounds lie outside the footprints' extent plus crop_margin"
    check "$1: read the other one only" has "$1.log" "readers.lidar: 1681 points read from 1 file(s), 1681 kept"
  else
    check "$1: passes nothing over" test -z "$(grep -F 'passed over' "$1.log")"
  fi
done
# The same when the LiDAR is in another CRS (New York State Plane in feet, footprints in
# UTM): the crop box goes into the LiDAR's CRS for the headers.
mkbox farft.las ft 1020000 247000
mkdir -p tiles_ft && cp ft.las tiles_ft/a.las && cp farft.las tiles_ft/b.las
run_case tiles_ft 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"tiles_ft\", \"srs\": \"EPSG:2263+6360\"}, $H, $E, $W]}"
read -r g r lo hi <<< "$(heights tiles_ft 2>/dev/null || echo x x x x)"
check "tiles_ft: roof_z 30 m and ground_z 10 m (got $r and $g)" near "$r" 30 0.05
check "tiles_ft: ground_z 10 m (got $g)" near "$g" 10 0.05
check "tiles_ft: says the far file was passed over" has tiles_ft.log \
  "readers.lidar: 1 of the 2 files (1681 points) passed over unread"
check "tiles_dir: says the hidden ._a.las was passed over" has tiles_dir.log \
  "tiles_dir: 1 hidden file(s) named .las or .laz passed over (such as the '._' companions a Mac leaves beside files)"
check "tiles_dir: run-summary.json says which file was passed over, and why" python3 -c '
import json, sys
s = json.load(open("tiles_dir-out/run-summary.json"))["inputs"]["sources"]
why = {x["path"].split("/")[-1]: x.get("passed_over") for x in s if x["stage"] == "readers.lidar"}
sys.exit(not (why == {"a.las": None, "b.las": "its header\x27s bounds lie outside the footprints\x27 extent plus crop_margin"}))'
# More files than the soft limit of open files (1024 on many systems; a directory of a
# national archive's tiles): "cannot open: Too many open files". The soft limit now goes
# up to the hard one; where the hard one is too low, the error says what to raise.
mkdir -p many_tiles && cp m.las many_tiles/a.las && python3 - <<'PY'
import struct
for t in range(120):
    x0, y0, s = 600000 + (t % 12) * 100, 4520000 + (t // 12) * 100, 0.01
    pts = [(x0 + i * 10 + 0.5, y0 + j * 10 + 0.5, 10.0) for i in range(10) for j in range(10)]
    h = bytearray(227); h[0:4] = b'LASF'; h[24] = 1; h[25] = 2
    struct.pack_into('<HHHIIBHI', h, 90, 1, 2024, 227, 227, 0, 1, 28, len(pts))
    struct.pack_into('<ddd', h, 131, s, s, s)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    struct.pack_into('<dddddd', h, 179, max(xs), min(xs), max(ys), min(ys), 10.0, 10.0)
    recs = b''.join(struct.pack('<iiiHBBbBHd', round(x / s), round(y / s), round(z / s), 0, 9, 2, 0, 0, 0, 0.0) for x, y, z in pts)
    open('many_tiles/t%03d.las' % t, 'wb').write(bytes(h) + recs)
PY
many='{"pipeline": [{"type": "readers.footprints", "path": "fp_m.geojson"}, {"type": "readers.lidar", "path": "many_tiles", "srs": "EPSG:32618+5703"}, '"$H, $E, $W]}"
printf '%s\n' "$many" > many_tiles.json
(ulimit -Sn 64; timeout 60 "$CLI" run many_tiles.json --set writers.3dtiles.path=many_tiles-out > many_tiles.log 2>&1); rc=$?
check "many_tiles: 121 files under a soft limit of 64 open files: exit 0 (got $rc)" test "$rc" -eq 0
check "many_tiles: the 120 far ones passed over" has many_tiles.log "readers.lidar: 120 of the 121 files (12000 points) passed over unread"
read -r g r lo hi <<< "$(heights many_tiles 2>/dev/null || echo x x x x)"
check "many_tiles: roof_z 30 and ground_z 10 (got $r and $g)" near "$r" 30 0.05
rm -rf many_tiles_hard-out
(ulimit -n 64; timeout 60 "$CLI" run many_tiles.json --set writers.3dtiles.path=many_tiles_hard-out > many_tiles_hard.log 2>&1); rc=$?
check "many_tiles_hard: a hard limit of 64 open files: exit 1 (got $rc)" test "$rc" -eq 1
check "many_tiles_hard: says which limit to raise" has many_tiles_hard.log \
  ".las: cannot open: Too many open files (the LAS files of a readers.lidar stage are held open together: raise the limit of open files above their number, ulimit -n)"
check "many_tiles_hard: no sanitizer report, no output" test -z "$(grep -E 'Sanitizer|runtime error' many_tiles_hard.log)" -a ! -e many_tiles_hard-out -a ! -e many_tiles_hard-out.partial
# A directory of tiles some of which are .laz files: read with the .las ones (LAZ is read
# since the LASzip decoder; before, they were passed over with a warning). A .laz beside
# the .las of the same name is its twin: passed over with a warning, else every point
# would count twice. A file named .laz that is not compressed is read as LAS, with a warning.
mkdir -p mixed_laz only_laz && cp m.las mixed_laz/a.las && cp m.las mixed_laz/a.laz && cp far.las mixed_laz/b.laz \
  && cp m.las only_laz/b.LAZ
run_case mixed_laz 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"mixed_laz\", \"srs\": \"EPSG:32618+5703\"}, $H, $E, $W]}"
check "mixed_laz: a.laz passed over as the twin of a.las" has mixed_laz.log \
  "mixed_laz/a.laz: passed over: $WORK/mixed_laz/a.las beside it has the same name (its decompressed twin; reading both would count every point twice)"
check "mixed_laz: b.laz read (named .laz, not compressed)" has mixed_laz.log "mixed_laz/b.laz: named .laz but not compressed: reading it as LAS"
read -r g r lo hi <<< "$(heights mixed_laz 2>/dev/null || echo x x x x)"
check "mixed_laz: roof_z 30 (got $r)" near "$r" 30 0.05
run_case only_laz 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_m.geojson\"}, {\"type\": \"readers.lidar\", \"path\": \"only_laz\", \"srs\": \"EPSG:32618+5703\"}, $H, $E, $W]}"
check "only_laz: a directory of one .LAZ is read" has only_laz.log "only_laz/b.LAZ: named .laz but not compressed: reading it as LAS"
read -r g r lo hi <<< "$(heights only_laz 2>/dev/null || echo x x x x)"
check "only_laz: roof_z 30 (got $r)" near "$r" 30 0.05
"$CLI" run tiles_dir.json --verbose --set writers.3dtiles.path=tiles_dir_v-out > tiles_dir_v.log 2>&1
check "tiles_dir: --verbose names the file passed over" has tiles_dir_v.log \
  "readers.lidar: $WORK/tiles_dir/b.las: passed over (its header's bounds lie outside the crop box)"

# `citytiler info` on header fields JSON cannot hold as they are: NaN bounds, and text
# that is not UTF-8 (a Latin-1 system identifier, a VLR description in Windows-1252).
# It said "out of memory while allocating info JSON" and printed nothing (exit 1). Now
# NaN is null and such text is read as Latin-1.
python3 - <<'PY'
import struct
b = bytearray(open("m.las", "rb").read())
struct.pack_into("<dd", b, 179, float("nan"), float("inf"))  # max x NaN, min x inf
b[26:32] = b"Caf\xe9 1"                                      # system identifier in Latin-1
open("odd_header.las", "wb").write(b)
PY
"$CLI" info odd_header.las > odd_header.json 2> odd_header.err
rc=$?
check "odd_header: info exits 0 (got $rc), says nothing on stderr" test "$rc" -eq 0 -a ! -s odd_header.err
check "odd_header: NaN and inf bounds are null, the Latin-1 text is read" python3 -c '
import json, sys
j = json.load(open("odd_header.json", encoding="utf-8"))
sys.exit(not (j["bounds"]["max"][0] is None and j["bounds"]["min"][0] is None and j["bounds"]["max"][1] > 4e6
              and j["system_id"] == "Caf\u00e9 1"))' 2>/dev/null

finish
