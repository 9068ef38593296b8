# Malformed inputs through `citytiler run` / `citytiler info` (the robustness audit):
# each case gets a clear message naming the file and the problem, the expected exit
# code, no sanitizer report, no output (or PATH.partial) left behind, and no hang.
# Inputs are generated here: tiny LAS files (python3, no packages) and GeoJSON.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1

# --- inputs ---------------------------------------------------------------------
. "$(dirname "$0")/inputs.bash"
mklas ok.las 400 85000 447000
mklas far.las 400 100000 400000
mklas zero.las 0 0 0
mklas unclassified.las 400 85000 447000 1
# z offset 1e308 (header bytes 171-178): every z beyond what a point may hold
python3 -c 'import struct,sys; b=bytearray(open("ok.las","rb").read()); struct.pack_into("<d", b, 171, 1e308); open("zoff.las","wb").write(b)'
# z scale 10 times too large (header bytes 147-154), the bounds left at 0..10 m: roofs at 100 m
python3 -c 'import struct,sys; b=bytearray(open("ok.las","rb").read()); struct.pack_into("<d", b, 147, 0.1); open("zscale.las","wb").write(b)'
# roof points (class 6) at 5000 m, the header's bounds saying so: a measured 5 km building
python3 - <<'PY'
import struct
b = bytearray(open("ok.las", "rb").read())
for i in range(400):
    if b[227 + 28 * i + 15] == 6:
        struct.pack_into("<i", b, 227 + 28 * i + 8, 500000)
struct.pack_into("<d", b, 211, 5000.0)
open("tall.las", "wb").write(b)
PY
fp fp.geojson "85005 447005 10"
fp fp_far.geojson "1e12 1e12 10" "85005 447005 10"
mkfifo pipe.las pipe.geojson
check "inputs generated" test -s ok.las -a -s fp.geojson -a -p pipe.las

# A FIFO as input used to block forever in open(): refused with a message.
run_case lidar_fifo 2 "{\"pipeline\": [$FP, $(lidar '"pipe.las"'), $H, $E, $W]}"
check "lidar_fifo: names the file and says it is no regular file" has lidar_fifo.log "pipe.las: not a regular file (a FIFO"
run_case footprints_fifo 2 '{"pipeline": [{"type": "readers.footprints", "path": "pipe.geojson"}, '"$E, $W]}"
check "footprints_fifo: names the file, a FIFO" has footprints_fifo.log "pipe.geojson: footprint source is a FIFO (named pipe)"
timeout 60 "$CLI" info pipe.las > info_fifo.log 2>&1
rc=$?
check "info on a FIFO: exit 2 (got $rc)" test "$rc" -eq 2
check "info on a FIFO: message" has info_fifo.log "pipe.las: is a FIFO (named pipe)"

# The same LAS file listed twice (and through a glob) is read once, with a warning.
run_case lidar_twice 0 "{\"pipeline\": [$FP, $(lidar '["ok.las", "./ok.las", "o*.las"]'), $H, $E, $W]}"
check "lidar_twice: warning names both paths" has lidar_twice.log "ok.las is the same file as $WORK/ok.las (reached twice: listed twice, or through a link, a glob or a directory): read once"
check "lidar_twice: 400 points read from 1 file" has lidar_twice.log "readers.lidar: 400 points read from 1 file(s), 400 kept"
# A copy under another name ("big (1).las") holds the same points: read once, with a
# warning (QA: counted twice with nothing said). A file of the same size and header whose
# points differ only where the quick print does not look (past the first 16 KiB, before a
# third of the file) is compared whole, and read.
mkdir -p copies && mklas copies/big.las 4000 85000 447000 && cp copies/big.las "copies/big (1).las"
python3 - <<'PY'
b = bytearray(open("copies/big.las", "rb").read())
assert len(b) > 3 * (16384 + 4096)
b[16384 + 1000] ^= 0x01
open("copies/near.las", "wb").write(bytes(b))
PY
run_case lidar_copy 0 "{\"pipeline\": [$FP, $(lidar '"copies"'), $H, $E, $W]}"
check "lidar_copy: warning names the copy and the original" has lidar_copy.log \
  "copies/big.las holds the same points as $WORK/copies/big (1).las (the same size, header and sampled records: a copy): read once"
check "lidar_copy: the near copy is read (8000 points from 2 files)" has lidar_copy.log \
  "readers.lidar: 8000 points read from 2 file(s)"

# A second readers.lidar once the first one's points went to disk (memory_limit) used
# to crash (it copied from cells not in memory): a clear error now.
disk_lidar='{"type": "readers.lidar", "path": "ok.las", "srs": "EPSG:28992", "memory_limit": 0.001}'
disk_lidar2='{"type": "readers.lidar", "path": "unclassified.las", "srs": "EPSG:28992", "memory_limit": 0.001}'
run_case lidar_second_on_disk 2 "{\"pipeline\": [$FP, $disk_lidar, $disk_lidar2, $H, $E, $W]}"
check "lidar_second_on_disk: says to read every file in one stage" has lidar_second_on_disk.log \
  "more points after the first ones went to disk (memory_limit): read every LAS file in one readers.lidar stage"
# A cell denser than the memory limit is read whole all the same: said (QA: 1.2 GB peak
# under --memory-limit 100 with nothing said). The 400 points take 6 KiB; the limit is 0.001 MiB.
run_case lidar_dense_cell 0 "{\"pipeline\": [$FP, $disk_lidar, $H, $E, $W]}"
check "lidar_dense_cell: says the cell holds more than the memory limit" has lidar_dense_cell.log \
  "readers.lidar: processing cell (340, 1788) holds 400 points (0.0061 MiB), more than the memory limit (0.000999 MiB): cells are read whole"
check "lidar_twice: no such warning under the default limit" test -z "$(grep -F 'more than the memory limit' lidar_twice.log)"
# A fine index_size makes index tables beyond the memory limit, whatever the points
# (QA: 0.1 m gave 7.4 GB of tables, unsaid): said, with the option that lowers it.
fine_lidar='{"type": "readers.lidar", "path": "ok.las", "srs": "EPSG:28992", "memory_limit": 1, "index_size": 0.1}'
run_case lidar_fine_index 0 "{\"pipeline\": [$FP, $fine_lidar, $H, $E, $W]}"
check "lidar_fine_index: says the index takes more than the memory limit" has lidar_fine_index.log \
  "readers.lidar: index_size 0.1 m gives each processing cell an index of"
check "lidar_fine_index: names the option that lowers it" has lidar_fine_index.log "a larger index_size lowers it"
check "lidar_twice: no index warning under the defaults" test -z "$(grep -F 'index_size' lidar_twice.log)"
# A header whose x/y scale is damaged small (1e-9) with an offset that keeps the points
# inside its bounds: every point within a millimetre, and every building got a fallback
# height with a warning about classification (QA). Refused now, naming the scale.
mklas spread.las 4000 85000 447000
python3 - <<'PY'
import struct
b = bytearray(open("spread.las", "rb").read())
struct.pack_into("<dd", b, 131, 1e-9, 1e-9)
struct.pack_into("<dd", b, 155, 85010.0, 447010.0)
open("collapsed.las", "wb").write(b)
PY
run_case lidar_collapsed 2 "{\"pipeline\": [$FP, $(lidar '"collapsed.las"'), $H, $E, $W]}"
check "lidar_collapsed: names the file and the damaged scale" has lidar_collapsed.log \
  "collapsed.las: 64 of its points, spread over the file, lie within"
check "lidar_collapsed: ... the scale" has lidar_collapsed.log "the header's x/y scale is damaged (scale 1e-09 1e-09"
run_case lidar_spread 0 "{\"pipeline\": [$FP, $(lidar '"spread.las"'), $H, $E, $W]}"

# A wrong srs for the LAS (metres read as degrees): PROJ fails on every point. With two
# threads this leaked (threads shared one OGRSpatialReference) and GDAL printed a line
# per point; now one error names the file, the points and the likely cause.
run_case lidar_wrong_srs 2 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"EPSG:4326\"}, $H, $E, $W]}"
check "lidar_wrong_srs: names the file, the points and the cause" has lidar_wrong_srs.log \
  "ok.las: cannot transform points 0..399 into the working CRS ("
check "lidar_wrong_srs: says what to check" has lidar_wrong_srs.log "is the LAS's CRS right? readers.lidar's srs sets it"
check "lidar_wrong_srs: no line per point from GDAL" test "$(grep -c '^ERROR' lidar_wrong_srs.log)" -le 2

# The same LAS file in two readers.lidar stages: its points were added twice (heights and
# densities silently changed). Refused, naming the file.
run_case lidar_two_stages_same_file 2 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $(lidar '"./ok.las"'), $H, $E, $W]}"
check "lidar_two_stages_same_file: names the file and says why" has lidar_two_stages_same_file.log \
  "ok.las: an earlier readers.lidar stage read this file: its points would count twice"
run_case lidar_two_stages_two_files 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $(lidar '"unclassified.las"'), $H, $E, $W]}"
# Both checks are one (ct_las_source_open is given the files earlier stages read): a file
# listed twice in a later stage is still read once, naming its first listing.
run_case lidar_second_stage_twice 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $(lidar '["unclassified.las", "./unclassified.las"]'), $H, $E, $W]}"
check "lidar_second_stage_twice: warning names both paths" has lidar_second_stage_twice.log \
  "./unclassified.las is the same file as $WORK/unclassified.las (reached twice: listed twice, or through a link, a glob or a directory): read once"
run_case lidar_second_stage_reads_first 2 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $(lidar '["unclassified.las", "o*.las"]'), $H, $E, $W]}"
check "lidar_second_stage_reads_first: names the file and says why" has lidar_second_stage_reads_first.log \
  "ok.las: an earlier readers.lidar stage read this file: its points would count twice"

# Every point of a class the stage drops: the warning names the classes as a cause too.
run_case lidar_all_dropped 2 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"EPSG:28992\", \"classes\": [9]}, $H, $E, $W]}"
check "lidar_all_dropped: the warning names the classes" has lidar_all_dropped.log "or classes/drop_classes leaving none?"
check "lidar_all_dropped: nothing measured at any footprint is an error" has lidar_all_dropped.log \
  "filters.heights: 1 of 1 buildings (100.0%) got a fallback roof height (the LiDAR measured no roof and no ground at any footprint): is the LiDAR of this area, its srs right, its classes as expected? Set max_fallback_share to 1 to write them anyway"

# LiDAR of another area: every building would silently get a fallback height. It is an
# error now (a batch run published boxes of the default height with exit 0);
# max_fallback_share 1 writes them, with the warnings.
run_case lidar_far 2 "{\"pipeline\": [$FP, $(lidar '"far.las"'), $H, $E, $W]}"
check "lidar_far: warning gives both extents" has lidar_far.log \
  "readers.lidar: none of the 400 points lies within crop_margin (50 m) of the footprints (x 85005.00..85015.00, y 447005.00..447015.00 in the working CRS; LAS header bounds x 100000.00..100019.00"
check "lidar_far: heights warn that all fell back" has lidar_far.log "no building has enough roof points: every building got a fallback height"
check "lidar_far: an error" has lidar_far.log "filters.heights: 1 of 1 buildings (100.0%) got a fallback roof height (the LiDAR measured no roof and no ground at any footprint)"
run_case lidar_far_allowed 0 "{\"pipeline\": [$FP, $(lidar '"far.las"'), {\"type\": \"filters.heights\", \"max_fallback_share\": 1}, $E, $W]}"
check "lidar_far_allowed: warned only" has lidar_far_allowed.log "no building has enough roof points: every building got a fallback height"
# Half the buildings beyond the LiDAR: fine by default, an error beyond a share set.
fp fp_half.geojson "85005 447005 10" "95005 447005 10"
FPH='{"type": "readers.footprints", "path": "fp_half.geojson"}'
run_case fallback_half 0 "{\"pipeline\": [$FPH, $(lidar '"ok.las"'), $H, $E, $W]}"
run_case fallback_share 2 "{\"pipeline\": [$FPH, $(lidar '"ok.las"'), {\"type\": \"filters.heights\", \"max_fallback_share\": 0.4}, $E, $W]}"
check "fallback_share: names the share and the limit" has fallback_share.log \
  "filters.heights: 1 of 2 buildings (50.0%) got a fallback roof height (more than max_fallback_share 0.4)"
run_case fallback_share_bad 2 "{\"pipeline\": [$FPH, $(lidar '"ok.las"'), {\"type\": \"filters.heights\", \"max_fallback_share\": 1.5}, $E, $W]}"
check "fallback_share_bad: refused" has fallback_share_bad.log "(filters.heights): max_fallback_share must be from 0 to 1 (got 1.5)"
run_case lidar_zero 2 "{\"pipeline\": [$FP, $(lidar '"zero.las"'), $H, $E, $W]}"
check "lidar_zero: warning" has lidar_zero.log "readers.lidar: the LAS file(s) hold no points"

# Unusable z (offset 1e308): the points are ignored and the log says why; with none
# kept, the file is refused as damaged (it went on with fallback heights for all).
run_case lidar_zoffset 2 "{\"pipeline\": [$FP, $(lidar '"zoff.las"'), $H, $E, $W]}"
check "lidar_zoffset: warning says the coordinates are unusable" has lidar_zoffset.log \
  "readers.lidar: 400 of the 400 points ignored: unusable coordinates"
check "lidar_zoffset: the file is named damaged" has lidar_zoffset.log \
  "zoff.las: its points lie far outside its own header's bounds (point 0 at x 85000, y 447000, z 1e+308"

# A z scale 10 times too large: x and y put the points on the footprints, so it went
# into the model without a word (a 100 m roof where the LiDAR says 10 m). Refused before
# reading, naming the file, a point and the header's bounds; check_z_bounds false reads it.
run_case lidar_zscale 2 "{\"pipeline\": [$FP, $(lidar '"zscale.las"'), $H, $E, $W]}"
check "lidar_zscale: names the file, the point and the bounds" has lidar_zscale.log \
  "zscale.las: point 399 (x 85019.00, y 447019.00) lies at z 100, far outside its own header's z bounds 0.00..10.00: the header's z scale or offset is damaged (scale 0.1, offset 0)"
# Files are checked in parallel: of several damaged ones, the first listed is named.
cp zscale.las zscale_b.las
run_case lidar_zscale_several 2 "{\"pipeline\": [$FP, $(lidar '["ok.las", "zscale.las", "zscale_b.las"]'), $H, $E, $W]}"
check "lidar_zscale_several: names the first damaged file, once" \
  test "$(grep -c 'far outside its own header' lidar_zscale_several.log)" -eq 1 -a -n "$(grep '/zscale.las: point 399' lidar_zscale_several.log)"
run_case lidar_zscale_unchecked 0 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"zscale.las\", \"srs\": \"EPSG:28992\", \"check_z_bounds\": false}, $H, $E, $W]}"
check "lidar_zscale_unchecked: read as it is (100 m roofs)" has lidar_zscale_unchecked.log "filters.heights: 1 buildings: 0 without enough roof points"

# Roof points 5 km up, with a header that agrees: a 5 km building went into the model
# without a word. Over max_height (1000 m) above its ground: the fallback height, flagged.
run_case lidar_too_tall 0 "{\"pipeline\": [$FP, $(lidar '"tall.las"'), $H, $E, $W]}"
check "lidar_too_tall: warned, naming the building and its height" has lidar_too_tall.log \
  "filters.heights: 1 buildings measured more than max_height (1000 m) above their ground got a fallback height instead (first: building 0, feature 0, 5000.0 m; flag roof_too_high)"
check "lidar_too_tall: counted in the summary" has lidar_too_tall.log "0 without ground points (fallback ground), 1 measured above max_height (fallback height)"
run_case lidar_too_tall_allowed 0 "{\"pipeline\": [$FP, $(lidar '"tall.las"'), {\"type\": \"filters.heights\", \"max_height\": 6000}, $E, $W]}"
check "lidar_too_tall_allowed: max_height 6000 keeps the 5 km roof" has lidar_too_tall_allowed.log \
  "filters.heights: 1 buildings: 0 without enough roof points (fallback height), 0 without ground points (fallback ground)"
run_case heights_max_height_bad 2 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), {\"type\": \"filters.heights\", \"max_height\": 0}, $E, $W]}"
check "heights_max_height_bad: says the range" has heights_max_height_bad.log "stage 2 (filters.heights): max_height must be in (0.5, 100000] m (got 0)"

# Unclassified LiDAR (all class 1, z 0): no ground anywhere; warned, then the roof is
# not above the fallback ground and the only building is skipped: nothing to write.
run_case lidar_unclassified 2 "{\"pipeline\": [$FP, $(lidar '"unclassified.las"'), $H, $E, $W]}"
check "lidar_unclassified: no-ground warning" has lidar_unclassified.log "filters.heights: no building has ground points"
check "lidar_unclassified: nothing to write" has lidar_unclassified.log "writers.3dtiles: nothing to write: 1 features read, all skipped"
check "lidar_unclassified: the roofs' heights, which base_z 0 makes buildings that tall" has lidar_unclassified.log \
  "stands on filters.extrude's base_z (left at its default, 0, the roofs measured at 0.0 to 0.0 m make buildings that tall)"
check "lidar_unclassified: names the classes the points have, and how to classify" has lidar_unclassified.log \
  "is the LiDAR unclassified? Its points are of class 1 ("
# Ground points there, but none within the search (buffer and max_buffer 0 around a
# footprint between the points): the warning names the search, not the classification.
fp fp_between.geojson "85005.2 447005.2 0.5"
run_case heights_no_buffer 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_between.geojson\"}, $(lidar '"ok.las"'), {\"type\": \"filters.heights\", \"buffer\": 0, \"max_buffer\": 0, \"max_fallback_share\": 1}, $E, $W]}"
check "heights_no_buffer: the ground points are named, and max_buffer" has heights_no_buffer.log \
  "the LiDAR has 200 points of ground_classes, none within max_buffer (0 m; buffer 0 m) of a footprint"
check "heights_no_buffer: not asked whether the LiDAR is unclassified" test -z "$(grep unclassified heights_no_buffer.log)"
check "lidar_unclassified: says how to classify the ground" has lidar_unclassified.log "PDAL's filters.smrf"
# A 3D CRS (its third axis an ellipsoidal height, e.g. a PROJ string with +vunits) needs no
# vertical CRS: the writer said "no vertical CRS known ... may float or sink" all the same.
srs3d="+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 +k=0.9999079 +x_0=155000 +y_0=463000 +ellps=bessel +towgs84=565.417,50.3319,465.552,-0.398957,0.343988,-1.8774,4.0725 +units=m +vunits=m +no_defs +type=crs"
run_case lidar_crs_3d 0 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"$srs3d\"}, $H, $E, $W]}"
check "lidar_crs_3d: heights taken as ellipsoidal, no vertical-CRS warning" \
  test -n "$(grep "the LiDAR's CRS is 3D: its heights are ellipsoidal" lidar_crs_3d.log)" -a -z "$(grep 'no vertical CRS known' lidar_crs_3d.log)"
run_case lidar_crs_2d 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), $H, $E, $W]}"
check "lidar_crs_2d: no vertical CRS: warned" has lidar_crs_2d.log "no vertical CRS known for the heights"
# Points read but not kept are said, with what drops them (the log said "400 read, 200 kept").
run_case lidar_drop6 0 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"EPSG:28992\", \"drop_classes\": [6]}, $H, $E, $W]}"
check "lidar_drop6: says why the rest was not kept" test -n "$(grep -F "400 points read from 1 file(s), 200 kept in 1 cells" lidar_drop6.log |
  grep -F "MiB); the other 200: of drop_classes or not of classes, withheld, or beyond crop_margin (50 m) of the footprints")"
# A class listed in classes that drop_classes (default [7, 18]) drops too: dropped, said.
run_case lidar_classes_dropped 0 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"EPSG:28992\", \"classes\": [2, 6, 7]}, $H, $E, $W]}"
check "lidar_classes_dropped: says class 7 is dropped all the same" has lidar_classes_dropped.log \
  "readers.lidar: class 7 is listed in classes, but drop_classes (by default [7, 18]) drops it too"
check "lidar_drop6: no such warning without classes" test -z "$(grep -F 'is listed in classes' lidar_drop6.log)"
# A handful of class-6 points among unclassified ones: class 6 alone is roof, so every
# building got a fallback height; the log said only that. Now it says why, and the fix.
mklas few6.las 400 85000 447000 "2,$(printf '1,%.0s' $(seq 1 99))6"
run_case lidar_few_class6 0 "{\"pipeline\": [$FP, $(lidar '"few6.las"'), $H, $E, $W]}"
check "lidar_few_class6: says class 6 is rare and to set building_classes" has lidar_few_class6.log \
  "roofs are measured from class 6 (building) alone, and only 3 of the 396 points that are not ground have it: if the LiDAR's buildings are not classified, set building_classes"

# Bad LiDAR paths.
mkdir -p nolas
run_case lidar_nolas_dir 2 "{\"pipeline\": [$FP, $(lidar '"nolas"'), $H, $E, $W]}"
check "lidar_nolas_dir: message" has lidar_nolas_dir.log "nolas: directory holds no .las or .laz file"
run_case lidar_glob_none 2 "{\"pipeline\": [$FP, $(lidar '"none*.las"'), $H, $E, $W]}"
check "lidar_glob_none: message, before anything ran" has lidar_glob_none.log "lidar_glob_none.json: stage 1 (readers.lidar): option 'path': '$(pwd)/none*.las': pattern matches no file"
: > empty.las
run_case lidar_empty_file 2 "{\"pipeline\": [$FP, $(lidar '"empty.las"'), $H, $E, $W]}"
check "lidar_empty_file: message" has lidar_empty_file.log "empty.las: not a LAS file: only 0 bytes"

# A footprint at 1e12 m in RD New: skipped and counted instead of stretching the root
# tile over the globe; the good one is written at a sensible depth.
run_case footprint_far 0 '{"pipeline": [{"type": "readers.footprints", "path": "fp_far.geojson"}, '"$E, $W]}"
check "footprint_far: skipped with its record and reason" has footprint_far.log \
  "fp_far.geojson: feature 0 (record 1): skipped: outside the CRS's area of use"
check "footprint_far: counted" has footprint_far.log "skipped 1: outside the CRS's area of use"
check "footprint_far: 1 written" has footprint_far.log "done: 2 features read, 1 buildings written, 1 skipped"
check "footprint_far: a shallow tileset (no level-30 tile)" test -z "$(ls footprint_far-out/tiles | grep '^30_')"

# Heights from rasters that give no ground (a DSM alone) or no roof (a DTM alone, or the
# DSM given as the DTM too): the warnings asked whether the LiDAR was unclassified.
gdal_create -q -outsize 40 40 -ot Float32 -a_srs EPSG:28992 -a_ullr 84990 447030 85030 446990 -burn 15 dsm15.tif
run_case raster_dsm_only 0 "{\"pipeline\": [$FP, {\"type\": \"readers.raster\", \"dsm\": \"dsm15.tif\"}, $H, $E, $W]}"
check "raster_dsm_only: says a DTM is needed for the ground" has raster_dsm_only.log \
  "filters.heights: no building has ground heights: every building stands on filters.extrude's base_z; give readers.raster a dtm"
check "raster_dsm_only: no word of LiDAR" test -z "$(grep -F 'is the LiDAR unclassified' raster_dsm_only.log)"
run_case raster_dtm_only 0 "{\"pipeline\": [$FP, {\"type\": \"readers.raster\", \"dtm\": \"dsm15.tif\"}, $H, $E, $W]}"
check "raster_dtm_only: says a DSM is needed for roofs" has raster_dtm_only.log \
  "filters.heights: no building has a roof height from the rasters: every building got a fallback height; give readers.raster a dsm"
run_case raster_dsm_as_dtm 0 "{\"pipeline\": [$FP, {\"type\": \"readers.raster\", \"dsm\": \"dsm15.tif\", \"dtm\": \"dsm15.tif\"}, $H, $E, $W]}"
check "raster_dsm_as_dtm: asks whether the DSM is a terrain model" has raster_dsm_as_dtm.log \
  "or is it a terrain model (roofs not above the ground)?"

# Out-of-range options.
run_case extrude_height_huge 2 "{\"pipeline\": [$FP, {\"type\": \"filters.extrude\", \"height\": 1e308}, $W]}"
check "extrude_height_huge: message" has extrude_height_huge.log "extrude_height_huge.json: stage 1 (filters.extrude): option 'height' must be a positive number of metres, at most 10000 (got 1e+308)"
run_case max_vertices_negative 2 "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"x\", \"max_vertices_per_tile\": -1}]}"
check "max_vertices_negative: message" has max_vertices_negative.log "max_vertices_per_tile must be >= 0"
# readers.footprints' max_vertices was checked only when the stage ran: after the stages
# before it, and without the file or the stage index.
run_case footprints_max_vertices_negative 2 "{\"pipeline\": [$FP, {\"type\": \"readers.footprints\", \"path\": \"fp.geojson\", \"max_vertices\": -5}, $E, $W]}"
check "footprints_max_vertices_negative: names the file and the stage" has footprints_max_vertices_negative.log \
  "footprints_max_vertices_negative.json: stage 1 (readers.footprints): max_vertices must be a whole number from 0 (no limit) to 1e12 (got -5)"
check "footprints_max_vertices_negative: before any stage ran" test -z "$(grep -F 'stage 0: readers.footprints' footprints_max_vertices_negative.log)"
# 1.5 acted as 1, unsaid (first-time-user QA)
run_case footprints_max_vertices_fraction 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp.geojson\", \"max_vertices\": 1.5}, $E, $W]}"
check "footprints_max_vertices_fraction: a whole number wanted" has footprints_max_vertices_fraction.log \
  "stage 0 (readers.footprints): max_vertices must be a whole number from 0 (no limit) to 1e12 (got 1.5)"
# A "type" that is not a string was reported as missing.
run_case type_not_string 2 '{"pipeline": [{"type": 5}]}'
check "type_not_string: says what is wrong with it" has type_not_string.log \
  "type_not_string.json: stage 0: \"type\" must be a string such as \"readers.footprints\""
run_case memory_limit_huge 2 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"EPSG:28992\", \"memory_limit\": 1e308}, $H, $E, $W]}"
check "memory_limit_huge: message" has memory_limit_huge.log "memory_limit_huge.json: stage 1 (readers.lidar): memory_limit must be from 0 to 1000000000 MiB"
run_case temp_dir_missing 2 "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"ok.las\", \"srs\": \"EPSG:28992\", \"temp_dir\": \"no/such/dir\"}, $H, $E, $W]}"
check "temp_dir_missing: message names the stage and the folder" has temp_dir_missing.log \
  "temp_dir_missing.json: stage 1 (readers.lidar): temp_dir 'no/such/dir' is not a directory this process can write to"
run_case geoid_missing 2 "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"out\", \"geoid\": \"no_such_grid.gtx\"}]}"
check "geoid_missing: refused before any stage runs, naming the stage and the grid" has geoid_missing.log \
  "geoid_missing.json: stage 2 (writers.3dtiles): PROJ cannot find the geoid grid 'no_such_grid.gtx'"
check "geoid_missing: no stage ran" test -z "$(grep -F 'stage 0: readers.footprints' geoid_missing.log)"
run_case percentile_150 2 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), {\"type\": \"filters.heights\", \"roof_percentile\": 150}, $E, $W]}"
check "percentile_150: message" has percentile_150.log "percentile_150.json: stage 2 (filters.heights): percentiles must be between 0 and 100"
run_case cell_size_zero 2 "{\"cell_size\": 0, \"pipeline\": [$FP, $E, $W]}"
check "cell_size_zero: message" has cell_size_zero.log "cell_size_zero.json: cell_size must be a number of metres from 1 to 1000000"
run_case empty_pipeline 2 '{"pipeline": []}'
check "empty_pipeline: message" has empty_pipeline.log "empty_pipeline.json: the pipeline has no stages"

# Output path that is an existing file: refused, the file untouched.
echo keep > a_file
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"a_file\"}]}" > out_file.json
run_as_is out_file
check "output path is a file: exit 2 (got $rc)" test "$rc" -eq 2
check "output path is a file: message" has out_file.log "a_file: output path exists and is not a directory"
check "output path is a file: untouched, no .partial" test "$(cat a_file)" = keep -a ! -e a_file.partial

# Output paths that cannot take the output are refused before stage 0 (they were found
# when the writer started, after the footprints, LiDAR and heights), with exit 2.
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"a_file/sub\"}]}" > out_under_file.json
timeout 60 "$CLI" run out_under_file.json --verbose > out_under_file.log 2>&1
rc=$?
check "output path under a file: exit 2 (got $rc)" test "$rc" -eq 2
check "output path under a file: message" has out_under_file.log "a_file/sub: output path cannot be written: a part of it is a file"
check "output path under a file: said before stage 0 ran" test -z "$(grep 'stage 0' out_under_file.log)"
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"/proc/ct_out\"}]}" > out_proc.json
run_as_is out_proc
check "output path that cannot be made: exit 2 (got $rc)" test "$rc" -eq 2
check "output path that cannot be made: message" has out_proc.log "/proc/ct_out: output path cannot be written: /proc/ct_out.partial: cannot create directory"

# An output path that is a symbolic link to nothing, given with a trailing slash: it ran
# every stage and failed at the end ("cannot move the new output into place").
ln -sfn no_such_target dangling
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"dangling/\"}]}" > out_dangling.json
run_as_is out_dangling
check "output path a dangling link: exit 2 (got $rc)" test "$rc" -eq 2
check "output path a dangling link: says so" has out_dangling.log "dangling: output path is a symbolic link to nothing"
check "output path a dangling link: nothing written" test ! -e dangling.partial -a ! -e no_such_target
# A run failing in stage 0 leaves none of the output's missing folders behind (the checks
# before stage 0 made them).
printf '%s\n' "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp.geojson\", \"layer\": \"nolayer\"}, $E, {\"type\": \"writers.3dtiles\", \"path\": \"new/a/b/out\"}]}" > out_nested_fail.json
run_as_is out_nested_fail
check "a stage-0 failure: exit 2 (got $rc)" test "$rc" -eq 2
check "a stage-0 failure: the output's folders not left behind" test ! -e new

# An earlier output is replaced whole: an input inside it, or any file citytiler does not
# write there, would be deleted with it. Refused, both kept.
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"prev\"}]}" > prev.json
run_as_is prev
check "earlier output written: exit 0 (got $rc)" test "$rc" -eq 0
cp fp.geojson prev/fp.geojson
printf '%s\n' "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"prev/fp.geojson\"}, $E, {\"type\": \"writers.3dtiles\", \"path\": \"prev\"}]}" > input_in_out.json
run_as_is input_in_out
check "input inside the output directory: exit 2 (got $rc)" test "$rc" -eq 2
check "input inside the output directory: message" has input_in_out.log \
  "stage 0 (readers.footprints) reads '$WORK/prev/fp.geojson' (option path), which lies inside the output directory '$WORK/prev' of stage 2 (writers.3dtiles)"
check "input inside the output directory: input kept" cmp fp.geojson prev/fp.geojson
run_as_is prev
check "a foreign file in the earlier output: exit 2 (got $rc)" test "$rc" -eq 2
check "a foreign file in the earlier output: message" has prev.log \
  "prev: output directory holds '$WORK/prev/fp.geojson', which citytiler does not write: refusing to replace the directory"
check "a foreign file in the earlier output: kept, with the earlier tileset" test -s prev/fp.geojson -a -s prev/tileset.json
rm prev/fp.geojson
run_as_is prev
check "the earlier output alone: replaced, exit 0 (got $rc)" test "$rc" -eq 0

# A where filter a GeoPackage (SQLite) rejects only when reading: reading just ended, so
# that source's buildings went missing with exit 0 when another source had some.
ogr2ogr -f GPKG fp.gpkg fp.geojson > /dev/null 2>&1
bad_where='{"type": "readers.footprints", "path": "fp.gpkg", "where": "id = = '"'x'"'"}'
run_case where_invalid_gpkg 2 "{\"pipeline\": [$FP, $bad_where, $E, $W]}"
check "where_invalid_gpkg: names the file, the stage and the filter" has where_invalid_gpkg.log \
  "fp.gpkg: readers.footprints: invalid where filter 'id = = 'x'' ("
nocol_where='{"type": "readers.footprints", "path": "fp.gpkg", "where": "nosuchcolumn > 3"}'
run_case where_unknown_column_gpkg 2 "{\"pipeline\": [$nocol_where, $E, $W]}"
check "where_unknown_column_gpkg: says to check the columns" has where_unknown_column_gpkg.log \
  "invalid where filter 'nosuchcolumn > 3' (failed to prepare SQL): check its SQL and that the layer has the columns it names"
ok_where='{"type": "readers.footprints", "path": "fp.gpkg", "where": "id = '"'b1'"'"}'
run_case where_valid_gpkg 0 "{\"pipeline\": [$ok_where, $E, $W]}"
check "where_valid_gpkg: the building it selects is written" has where_valid_gpkg.log "1 buildings written"

# A footprint of more vertices than max_vertices (default 100000): a valid 1M-vertex
# zigzag star took 211 s to extrude. Skipped with its record and reason; the limit counts
# vertices without the rings' closing points.
python3 - <<'PY'
import json, math
def star(n):
    p = [[85020 + (15 if i % 2 else 14) * math.cos(2 * math.pi * i / n), 447020 + (15 if i % 2 else 14) * math.sin(2 * math.pi * i / n)] for i in range(n)]
    return [p + [p[0]]]
sq = [[[85005, 447005], [85015, 447005], [85015, 447015], [85005, 447015], [85005, 447005]]]
feats = [{"type": "Feature", "properties": {"id": i}, "geometry": {"type": "Polygon", "coordinates": g}}
         for i, g in (("star", star(100001)), ("square", sq))]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("many_vertices.geojson", "w"))
PY
run_case many_vertices 0 '{"pipeline": [{"type": "readers.footprints", "path": "many_vertices.geojson", "id_field": "id"}, '"$E, $W]}"
check "many_vertices: the star skipped with its record and reason" has many_vertices.log \
  "many_vertices.geojson: feature 0 (record 1): skipped: more vertices than max_vertices (readers.footprints): simplify it first"
check "many_vertices: the square written" has many_vertices.log "done: 2 features read, 1 buildings written, 1 skipped"
run_case max_vertices_4 0 '{"pipeline": [{"type": "readers.footprints", "path": "many_vertices.geojson", "id_field": "id", "max_vertices": 4}, '"$E, $W]}"
check "max_vertices_4: a square (4 vertices) is kept" has max_vertices_4.log "done: 2 features read, 1 buildings written, 1 skipped"

# No writer (a run that checks its inputs), and a reader after the writer: the summary
# said "buildings written" for both, counting buildings no tileset holds.
printf '%s\n' "{\"pipeline\": [$FP, $E]}" > no_writer.json
run_as_is no_writer
check "no_writer: exit 0 (got $rc)" test "$rc" -eq 0
check "no_writer: says nothing was written" has no_writer.log \
  "done: 1 features read, 1 buildings kept, 0 skipped; nothing written (no writer stage)"
run_case reader_after_writer 0 "{\"pipeline\": [$FP, $E, $W, $FP]}"
check "reader_after_writer: warns, naming the stages" has reader_after_writer.log \
  "stage 3 (readers.footprints) comes after the last writer (stage 2, writers.3dtiles): what it does is not written"
check "reader_after_writer: counts what the writer wrote" has reader_after_writer.log \
  "done: 2 features read, 1 buildings written, 0 skipped"

# An output path that is a symbolic link: the tileset goes into the directory it names
# (the link used to be replaced by a new directory); a link to nothing is refused.
rm -rf link_target out_link dangling_link && mkdir link_target && ln -s link_target out_link && ln -s nowhere dangling_link
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"out_link\"}]}" > out_link.json
run_as_is out_link
check "output path a link to a directory: exit 0 (got $rc), the tileset in the target, the link kept" \
  test "$rc" -eq 0 -a -s link_target/tileset.json -a -L out_link
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"dangling_link\"}]}" > dangling_link.json
run_as_is dangling_link
check "output path a link to nothing: exit 2 (got $rc)" test "$rc" -eq 2
check "output path a link to nothing: message" has dangling_link.log "is a symbolic link to nothing"
check "output path a link to nothing: nothing written" test ! -e dangling_link.partial -a ! -e nowhere

# id_field null or empty: the feature id stands in, counted (an empty id was kept as is).
python3 - <<'PY'
import json
sq = lambda x: [[[x, 447005], [x + 10, 447005], [x + 10, 447015], [x, 447015], [x, 447005]]]
feats = [{"type": "Feature", "properties": {"id": v}, "geometry": {"type": "Polygon", "coordinates": sq(85005 + 20 * i)}}
         for i, v in enumerate(["a", "", None])]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("ids.geojson", "w"))
PY
run_case ids_missing 0 '{"pipeline": [{"type": "readers.footprints", "path": "ids.geojson", "id_field": "id"}, '"$E, $W]}"
check "ids_missing: counted" has ids_missing.log "changed 2: id_field null or empty: the feature id used"
check "ids_missing: all written" has ids_missing.log "done: 3 features read, 3 buildings written, 0 skipped"

# The same footprints read twice: the ids in the tiles are not unique, and the log says so.
run_case footprints_twice 0 "{\"pipeline\": [$FP, $FP, $E, $W]}"
check "footprints_twice: duplicate-id warning names the file, the first id and records, and the likely cause" \
  has footprints_twice.log "fp.geojson: 1 building(s) have the id of a building an earlier readers.footprints stage read (first: '0', feature 0 there and feature 0 here): ids in the tiles are not unique; is the same source read twice?"
run_case footprints_once 0 "{\"pipeline\": [$FP, $E, $W]}"
check "footprints_once: no duplicate-id warning" test -z "$(grep -F 'have the id of' footprints_once.log)"

# Two writers with the same path (one given with a trailing slash): the second would
# replace the first's tileset; refused before anything runs. Other paths: fine.
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"w1\"}, {\"type\": \"writers.3dtiles\", \"path\": \"w1/\"}]}" > same_out.json
run_as_is same_out
check "two writers, same path: exit 2 (got $rc)" test "$rc" -eq 2
check "two writers, same path: message names both stages" has same_out.log "stages 2 and 3 both write to"
check "two writers, same path: nothing written" test ! -e w1 -a ! -e w1.partial
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"w2\"}, {\"type\": \"writers.3dtiles\", \"path\": \"w3\"}]}" > other_out.json
run_as_is other_out
check "two writers, other paths: exit 0 (got $rc), both written" test "$rc" -eq 0 -a -s w2/tileset.json -a -s w3/tileset.json
# Other spellings of one directory were compared as strings and let through: a symbolic
# link to it, "x/../w", a folder that does not exist yet and its parent ("no/../w").
mkdir -p w4_target sub && ln -sfn w4_target w4_link
two_writers() { # NAME PATH1 PATH2: runs two writers; checks exit 2, the message, nothing written
  printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"$2\"}, {\"type\": \"writers.3dtiles\", \"path\": \"$3\"}]}" > "$1.json"
  timeout 60 "$CLI" run "$1.json" > "$1.log" 2>&1
  local rc=$?
  check "$1: exit 2 (got $rc)" test "$rc" -eq 2
  check "$1: message names both stages and the second path" has "$1.log" \
    "stages 2 and 3 both write to '$(pwd -P)/$2' (stage 3's path '$(pwd -P)/$3' names the same directory)"
  check "$1: no stage ran" test -z "$(grep -F 'stage 0: readers.footprints' "$1.log")"
}
two_writers same_out_link w4_target w4_link
check "same_out_link: nothing written" test ! -e w4_target/tileset.json -a ! -e w4_target.partial
two_writers same_out_dotdot w5 sub/../w5
two_writers same_out_new_dotdot w6 no/such/../../w6
check "same_out_new_dotdot: nothing written" test ! -e w6 -a ! -e no
printf '%s\n' "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"sub/w7\"}, {\"type\": \"writers.3dtiles\", \"path\": \"w7\"}]}" > other_out_dir.json
run_as_is other_out_dir
check "two writers, same name in other folders: exit 0 (got $rc), both written" \
  test "$rc" -eq 0 -a -s sub/w7/tileset.json -a -s w7/tileset.json

# A GeoPackage feature whose geometry blob GDAL cannot decode (truncated, an unknown WKB
# type) comes back from OGR without geometry: it was skipped as "empty geometry", like a
# feature with none. Told apart now, with GDAL's message; small layers are read in one
# pass, from 4096 features on in parallel ranges (one GDAL error state per thread).
# corrupt_gpkg OUT N: N squares (ids b1..bN) and a null geometry; blobs 2 and 3 spoilt.
corrupt_gpkg() {
  python3 - "$1.geojson" "$2" <<'PY'
import json, sys
def sq(i):
    x, y = 85005 + 20 * (i % 100), 447005 + 20 * (i // 100)
    return [[[x, y], [x + 10, y], [x + 10, y + 10], [x, y + 10], [x, y]]]
feats = [{"type": "Feature", "properties": {"id": "b%d" % (i + 1)}, "geometry": {"type": "Polygon", "coordinates": sq(i)}}
         for i in range(int(sys.argv[2]))]
feats.append({"type": "Feature", "properties": {"id": "null"}, "geometry": None})
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open(sys.argv[1], "w"))
PY
  rm -f "$1"
  ogr2ogr -f GPKG -nln fp -lco SPATIAL_INDEX=NO "$1" "$1.geojson" > /dev/null 2>&1 # (no R-tree triggers to run)
  python3 - "$1" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
blob = lambda fid: c.execute("SELECT geom FROM fp WHERE fid = ?", (fid,)).fetchone()[0]
b2, b3 = blob(2), blob(3)
c.execute("UPDATE fp SET geom = ? WHERE fid = 2", (b2[:len(b2) // 2],))  # truncated WKB
c.execute("UPDATE fp SET geom = ? WHERE fid = 3", (b3[:40] + b"\x01\xff\xff\xff\x7f" + bytes(20),))  # no such WKB type
c.commit()
PY
}
mkdir -p corrupt/big && corrupt_gpkg corrupt/fp.gpkg 3 && corrupt_gpkg corrupt/big/fp.gpkg 4100
check "corrupt GeoPackages generated" test -s corrupt/fp.gpkg -a -s corrupt/big/fp.gpkg
run_case corrupt_blob 0 '{"pipeline": [{"type": "readers.footprints", "path": "corrupt/fp.gpkg", "id_field": "id"}, '"$E, $W]}"
check "corrupt_blob: the truncated blob is an unreadable geometry, with GDAL's message" has corrupt_blob.log \
  "fp.gpkg: feature 2 (record 2): skipped: unreadable geometry (corrupt blob: Length of input WKB is too small)"
check "corrupt_blob: so is the unknown WKB type" has corrupt_blob.log \
  "fp.gpkg: feature 3 (record 3): skipped: unreadable geometry (corrupt blob: Unsupported WKB type"
check "corrupt_blob: the null geometry is an empty geometry" has corrupt_blob.log \
  "fp.gpkg: feature 4 (record 4): skipped: empty geometry"
check "corrupt_blob: counted apart in the run summary" python3 -c '
import json, sys; s = json.load(open("corrupt_blob-out/run-summary.json"))["skipped"]
sys.exit(s != {"unreadable geometry (corrupt blob)": 2, "empty geometry": 1})'
check "corrupt_blob: GDAL's messages are not printed besides" test -z "$(grep '^ERROR' corrupt_blob.log)"
printf '%s\n' '{"pipeline": [{"type": "readers.footprints", "path": "corrupt/big/fp.gpkg", "id_field": "id"}]}' \
  > corrupt_blob_parallel.json
timeout 120 "$CLI" run corrupt_blob_parallel.json --threads 2 > corrupt_blob_parallel.log 2>&1
rc=$?
check "corrupt_blob_parallel: exit 0 (got $rc), read in parallel" \
  test "$rc" -eq 0 -a -n "$(grep -F 'in parallel' corrupt_blob_parallel.log)"
check "corrupt_blob_parallel: no sanitizer report" test -z "$(grep -E 'Sanitizer|runtime error' corrupt_blob_parallel.log)"
check "corrupt_blob_parallel: counts" has corrupt_blob_parallel.log "done: 4101 features read, 4098 buildings kept, 3 skipped"
check "corrupt_blob_parallel: 2 unreadable" has corrupt_blob_parallel.log "skipped 2: unreadable geometry (corrupt blob)"
check "corrupt_blob_parallel: 1 empty" has corrupt_blob_parallel.log "skipped 1: empty geometry"
check "corrupt_blob_parallel: GDAL's message" has corrupt_blob_parallel.log \
  "feature 2 (record 2): skipped: unreadable geometry (corrupt blob: Length of input WKB is too small)"

# CSV numbers are decimal: strtod read "0x14C12" as 85010, so a hex coordinate placed
# an asset (and a column of hex codes became numbers).
printf 'id,x,y,category\nh1,85010,447010,tree\nh2,0x14C12,447010,tree\nh3,85012,0x6D222,tree\n' > hex_assets.csv
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "hex_assets.csv", "srs": "EPSG:28992"}]}' > assets_hex.json
run_as_is assets_hex
check "assets_hex: exit 0 (got $rc), no sanitizer report" test "$rc" -eq 0 -a -z "$(grep -E 'Sanitizer|runtime error' assets_hex.log)"
check "assets_hex: a hex x is not a number" has assets_hex.log "hex_assets.csv: row 3: skipped: non-numeric x ('0x14C12')"
check "assets_hex: a hex y is not a number" has assets_hex.log "hex_assets.csv: row 4: skipped: non-numeric y ('0x6D222')"
check "assets_hex: counts" has assets_hex.log "hex_assets.csv: assets: 3 read, 1 kept, 2 skipped: 1 non-numeric x, 1 non-numeric y"

# A very long string in a message (a 100,000-character path, a 1,000,000-character layer
# name): messages were cut at 2048 bytes, before they said what was wrong. Now the start
# and the end are kept around a note.
long=$(printf 'a%.0s' $(seq 100000))
run_case long_path 2 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$long.geojson\"}, $E, $W]}"
check "long_path: the message still says what is wrong" has long_path.log \
  "aaaa.geojson: cannot open as a vector source (missing file or unknown format)"
check "long_path: and what was left out" has long_path.log "characters left out ...]"
check "long_path: a line of at most 2100 bytes" test "$(grep 'cannot open' long_path.log | wc -c)" -le 2100
python3 -c 'import sys; print("{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp.geojson\", \"layer\": \"%s\"}]}" % ("b" * 1000000))' \
  > long_layer.json
run_as_is long_layer
check "long_layer: exit 2 (got $rc)" test "$rc" -eq 2
check "long_layer: the message still says what is wrong" has long_layer.log "bbbb' not found (layers: fp)"
run_case long_option 2 "{\"pipeline\": [$FP, $E, {\"type\": \"writers.3dtiles\", \"path\": \"x\", \"compression\": \"$long\"}]}"
check "long_option: names the file, the stage and the value's end" has long_option.log \
  "long_option.json: stage 2 (writers.3dtiles): compression must be \"none\" or \"meshopt\""
check "long_option: the value's end" has long_option.log 'aaaa", 0.01)'

# Names and text that are not UTF-8 (Latin-1): JSON cannot hold them and jansson refuses
# them. A pipeline in such a folder failed with "out of memory while allocating path
# option" (exit 1), a --set path or value likewise; with --log-format json a line quoting
# such text (a Latin-1 column name) was dropped.
mkdir -p "$(printf 'latin\351')" && cp fp.geojson "$(printf 'latin\351')/"
printf '%s\n' "{\"pipeline\": [$FP, $E, $W]}" > "$(printf 'latin\351')/p.json"
timeout 60 "$CLI" run "$(printf 'latin\351')/p.json" > latin_dir.log 2>&1
rc=$?
check "latin_dir: exit 2 (got $rc)" test "$rc" -eq 2
check "latin_dir: says the path is not UTF-8" has latin_dir.log \
  "p.json: stage 0 (readers.footprints): option 'path': the path '$(pwd -P)/$(printf 'latin\351')/fp.geojson' is not valid UTF-8"
timeout 60 "$CLI" run no_writer.json --set "$(printf 'readers.footprints.path=\351.geojson')" > latin_set.log 2>&1
rc=$?
check "latin_set: exit 2 (got $rc)" test "$rc" -eq 2
check "latin_set: says the value is not UTF-8" has latin_set.log "the value is not valid UTF-8"
printf 'id,x,y,na\357ve\nb1,85010,447010,1\n' > latin_names.csv
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "latin_names.csv", "srs": "EPSG:28992", "id_field": "nope"}]}' > latin_log.json
timeout 60 "$CLI" run latin_log.json --log-format json > latin_log.log 2>&1
rc=$?
check "latin_log: exit 2 (got $rc)" test "$rc" -eq 2
check "latin_log: the error is logged, its bad byte replaced" has latin_log.log \
  "\"level\":\"error\",\"message\":\"$(pwd -P)/latin_names.csv: id_field 'nope' is not a field of layer 'latin_names' (fields: id, x, y, na$(printf '\357\277\275')ve)\",\"stage\":\"readers.assets\"}"

# Text values that are not UTF-8 (a Latin-1 CSV) went into the tiles' metadata as they
# were: invalid glTF (METADATA_STRING_UTF8) with exit 0. Their other bytes are read as
# Latin-1 now (Latin-1 'Stra\337e' becomes UTF-8 'Straße'), with a warning and a count.
# glb_has FILE BYTES: the GLB holds those bytes (printf escapes).
glb_has() { python3 -c 'import os, sys; sys.exit(os.fsencode(sys.argv[2]) not in open(sys.argv[1], "rb").read())' "$1" "$(printf "$2")"; }
printf 'WKT,id,name\n"POLYGON((85005 447005,85015 447005,85015 447015,85005 447015,85005 447005))",b\351,Stra\337e\n' > latin_fp.csv
run_case latin_text_fp 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"latin_fp.csv\", \"srs\": \"EPSG:28992\", \"id_field\": \"id\"}, $E, $W]}"
check "latin_text_fp: warning names the file and the first feature" has latin_text_fp.log \
  "latin_fp.csv: 1 buildings have an id or text attribute that is not UTF-8 (first: feature 1, record 1): its bytes that are not were read as Latin-1"
check "latin_text_fp: counted" has latin_text_fp.log "changed 1: text not UTF-8: read as Latin-1"
check "latin_text_fp: the metadata holds UTF-8 'Straße' and 'bé'" \
  glb_has latin_text_fp-out/tiles/0_0_0.glb 'Stra\303\237e'
check "latin_text_fp: ... and 'bé'" glb_has latin_text_fp-out/tiles/0_0_0.glb 'b\303\251'
check "latin_text_fp: no Latin-1 byte left" eval '! glb_has latin_text_fp-out/tiles/0_0_0.glb "Stra\337e"'
# The same in a list (a GeoJSON array of strings): its strings were read as Latin-1 but
# not counted, so the run said nothing of them.
printf '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"id": "b1", "tags": ["Stra\337e", "x"]}, "geometry": {"type": "Polygon", "coordinates": [[[85005, 447005], [85015, 447005], [85015, 447015], [85005, 447015], [85005, 447005]]]}}]}\n' > latin_list.geojson
run_case latin_list 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"latin_list.geojson\", \"srs\": \"EPSG:28992\", \"id_field\": \"id\"}, $E, $W]}"
check "latin_list: warning names the file and the feature" has latin_list.log \
  "latin_list.geojson: 1 buildings have an id or text attribute that is not UTF-8 (first: feature 0, record 1)"
check "latin_list: counted" has latin_list.log "changed 1: text not UTF-8: read as Latin-1"
check "latin_list: the metadata holds the list with UTF-8 'Straße'" \
  glb_has latin_list-out/tiles/0_0_0.glb '["Stra\303\237e","x"]'
printf 'id,x,y,category,name\na\351,85010,447010,tr\351e,Stra\337e\na2,85012,447010,tree,ok\n' > latin_assets.csv
run_case latin_text_assets 0 "{\"pipeline\": [$FP, $(lidar '"ok.las"'), {\"type\": \"readers.assets\", \"path\": \"latin_assets.csv\", \"srs\": \"EPSG:28992\"}, $H, $E, {\"type\": \"filters.clamp\"}, $W]}"
check "latin_text_assets: warning names the file and the first row" has latin_text_assets.log \
  "latin_assets.csv: 1 assets have an id, category or text attribute that is not UTF-8 (first: row 2)"
asset_glb=$(ls latin_text_assets-out/assets/*.glb 2> /dev/null | head -1)
check "latin_text_assets: the metadata holds UTF-8 id, category and text" \
  eval 'glb_has "$asset_glb" "a\303\251" && glb_has "$asset_glb" "tr\303\251e" && glb_has "$asset_glb" "Stra\303\237e"'

# A GeoPackage with garbled pages: OGR ends the reading as at the end of the layer, so the
# rest of the buildings went missing with exit 0 (GDAL printed one line of its own). When
# SQLite reports the damage the run stops, naming it; when it does not (an interior page of
# the 4101-feature file), the feature count of the file and the features read differ: warned.
# garble IN OUT: pages from the middle on overwritten.
garble() { python3 -c '
import sys; b = bytearray(open(sys.argv[1], "rb").read()); n = len(b) // 4096
for p in range(n // 2, n // 2 + int(sys.argv[3])): b[p * 4096 + 100:p * 4096 + 4000] = bytes([0xAB]) * 3900
open(sys.argv[2], "wb").write(b)' "$@"; }
python3 - <<'PY'
import json
feats = [{"type": "Feature", "properties": {"id": "b%d" % i, "pad": "x" * 200},
          "geometry": {"type": "Polygon", "coordinates": [[[85005 + 20 * (i % 100) + dx, 447005 + 20 * (i // 100) + dy]
                       for dx, dy in ((0, 0), (10, 0), (10, 10), (0, 10), (0, 0))]]}} for i in range(3000)]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("padded.geojson", "w"))
PY
rm -f padded.gpkg && ogr2ogr -f GPKG -nln fp padded.gpkg padded.geojson > /dev/null 2>&1
garble padded.gpkg damaged.gpkg 5
garble corrupt/big/fp.gpkg damaged_quiet.gpkg 3
run_case damaged_gpkg 2 '{"pipeline": [{"type": "readers.footprints", "path": "damaged.gpkg"}, '"$E, $W]}"
check "damaged_gpkg: says the reading stopped, why and what it means" has damaged_gpkg.log \
  "damaged.gpkg: reading stopped after record "
check "damaged_gpkg: ... with SQLite's message" has damaged_gpkg.log \
  "database disk image is malformed): the source is damaged; its remaining features would be missing"
run_case damaged_gpkg_quiet 0 '{"pipeline": [{"type": "readers.footprints", "path": "damaged_quiet.gpkg"}, '"$E, $W]}"
check "damaged_gpkg_quiet: warns that fewer features were read than the file holds" has damaged_gpkg_quiet.log \
  "damaged_quiet.gpkg: the source says it holds 4101 features but "
check "damaged_gpkg_quiet: no such warning for the whole file" test -z "$(grep -F 'says it holds' corrupt_blob_parallel.log)"

# readers.assets likewise: a point whose blob GDAL cannot decode was a "missing geometry";
# a damaged GeoPackage of assets ended early with exit 0.
python3 - <<'PY'
import json
feats = [{"type": "Feature", "properties": {"id": "p%d" % i, "category": "tree"},
          "geometry": {"type": "Point", "coordinates": [85005 + i, 447005]}} for i in range(4)]
feats.append({"type": "Feature", "properties": {"id": "pn", "category": "tree"}, "geometry": None})
feats += [{"type": "Feature", "properties": {"id": "q%d" % i, "category": "x" * 300},
           "geometry": {"type": "Point", "coordinates": [85005 + i % 50, 447005 + i // 50]}} for i in range(3000)]
json.dump({"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
           "features": feats}, open("points.geojson", "w"))
PY
rm -f points.gpkg && ogr2ogr -f GPKG -nln pts -lco SPATIAL_INDEX=NO points.gpkg points.geojson > /dev/null 2>&1
garble points.gpkg points_damaged.gpkg 5
python3 -c 'import sqlite3; c = sqlite3.connect("points.gpkg"); b = c.execute("SELECT geom FROM pts WHERE fid = 2").fetchone()[0]
c.execute("UPDATE pts SET geom = ? WHERE fid = 2", (b[:-6],)); c.commit()'
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "points.gpkg"}]}' > assets_corrupt_blob.json
run_as_is assets_corrupt_blob
check "assets_corrupt_blob: exit 0 (got $rc)" test "$rc" -eq 0
check "assets_corrupt_blob: the corrupt blob is an unreadable geometry" has assets_corrupt_blob.log \
  "points.gpkg: feature 2: skipped: unreadable geometry (corrupt blob) (Unable to read geometry)"
check "assets_corrupt_blob: the null one a missing geometry" has assets_corrupt_blob.log "points.gpkg: feature 5: skipped: missing geometry"
check "assets_corrupt_blob: counted apart" has assets_corrupt_blob.log \
  "skipped: 1 unreadable geometry (corrupt blob), 1 missing geometry"
printf '%s\n' '{"pipeline": [{"type": "readers.assets", "path": "points_damaged.gpkg"}]}' > assets_damaged.json
run_as_is assets_damaged
check "assets_damaged: exit 2 (got $rc)" test "$rc" -eq 2
check "assets_damaged: says the reading stopped and why" has assets_damaged.log \
  "database disk image is malformed): the source is damaged; its remaining rows would be missing"

# Asset symbols: a model that is missing, or not a model.
printf 'id,x,y,category\na1,85010,447010,tree\n' > assets.csv
echo "not a model" > not_a_model.obj
run_case model_missing 2 '{"pipeline": [{"type": "readers.assets", "path": "assets.csv", "srs": "EPSG:28992"}, {"type": "writers.3dtiles", "path": "x", "symbols": {"*": {"model": "missing.obj"}}}]}'
check "model_missing: message" has model_missing.log "missing.obj: cannot load model"
run_case model_not_a_model 2 '{"pipeline": [{"type": "readers.assets", "path": "assets.csv", "srs": "EPSG:28992"}, {"type": "writers.3dtiles", "path": "x", "symbols": {"*": {"model": "not_a_model.obj"}}}]}'
check "model_not_a_model: message" has model_not_a_model.log "not_a_model.obj: cannot load model"

# 25 features far outside the CRS's area and one good one: the first 20 skips are listed,
# the rest counted in one line (a city's file of thousands gave thousands of lines);
# --verbose lists each.
args=(); for i in $(seq 0 24); do args+=("$((1000000000000 + i * 100)) 1000000000000 10"); done
fp fp_many_bad.geojson "${args[@]}" "85005 447005 10"
run_case footprints_many_bad 0 "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"fp_many_bad.geojson\"}, {\"type\": \"filters.extrude\", \"height\": 5}, $W]}"
check "footprints_many_bad: 20 skips listed" test "$(grep -c ': skipped: ' footprints_many_bad.log)" -eq 20
check "footprints_many_bad: the other 5 counted in one line" has footprints_many_bad.log \
  "fp_many_bad.geojson: 5 more features skipped or warned about likewise (not listed: the first 20 are; --verbose lists each"
check "footprints_many_bad: the summary counts all 25" grep -q "skipped 25: " footprints_many_bad.log
"$CLI" run footprints_many_bad.json --verbose --set "writers.3dtiles.path=many_verbose" > many_verbose.log 2>&1
check "footprints_many_bad: --verbose lists all 25" test "$(grep -c ': skipped: ' many_verbose.log)" -eq 25
finish
