# A temp_dir too small for the points on disk (a server's small /tmp): the run stops with
# an error that names the folder, says how much the points may need and what to do (it
# said "No space left on device" only), after a warning, before any point is written,
# that the folder has less room than the points may need; exit 1, nothing left in the output path. The
# small disk is a 1 MiB tmpfs mounted in a private mount namespace (unshare -m, as root);
# where that is not allowed the test exits 77, which ctest reports as skipped.
. "$(dirname "$0")/common.bash"
cd "$WORK" || exit 1
. "$(dirname "$0")/inputs.bash"
mklas big.las 200000 85000 447000
fp fp.geojson "85005 447005 50" "85100 447100 50" "85400 447400 40"
check "inputs generated" test -s big.las -a -s fp.geojson
printf '%s\n' "{\"pipeline\": [$FP, {\"type\": \"readers.lidar\", \"path\": \"big.las\", \"srs\": \"EPSG:28992\", \"memory_limit\": 1, \"temp_dir\": \"$WORK/small\"}, $H, $E, $W]}" > full.json
mkdir -p small
if unshare -m true 2> /dev/null; then
  unshare -m sh -c 'mount -t tmpfs -o size=1m tmpfs small && exec "$0" run full.json --set writers.3dtiles.path=full-out' \
    "$CLI" > full.log 2>&1
  rc=$?
  check "full: exit 1 (got $rc)" test "$rc" -eq 1
  check "full: names the folder and the cause, how much and what to do" has full.log \
    "cannot write the temporary point file in $WORK/small: No space left on device (the points may need up to"
  check "full: says what to do" has full.log "give readers.lidar a temp_dir on a larger disk, or more memory_limit)"
  check "full: warned before writing that the folder is too small" has full.log \
    "points: the temporary folder $WORK/small has 1 MB free and the points may need up to"
  check "full: the warning comes before the error" test "$(grep -n 'the run may stop with a full disk' full.log | cut -d: -f1)" \
    -lt "$(grep -n 'No space left on device' full.log | cut -d: -f1)"
  check "full: no sanitizer report" test -z "$(grep -E 'Sanitizer|runtime error' full.log)"
  check "full: nothing left in the output path" test ! -e full-out -a ! -e full-out.partial
else
  echo "not run: this machine does not allow a private mount namespace (unshare -m)"
  exit 77 # ctest: skipped
fi
finish
