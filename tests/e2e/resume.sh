# A run killed midway leaves no tileset at the output path, only OUTPUT.partial; --resume
# keeps the tiles it finished and writes the rest; the result is the same bytes as an
# uninterrupted run. Resuming with other options is refused.
. "$(dirname "$0")/common.bash"
out="$WORK/tiles"
run() { "$CLI" run "$SRC/pipelines/sample.json" --threads 2 --set "writers.3dtiles.path=$1" \
          --set writers.3dtiles.max_buildings_per_tile=12 "${@:2}"; }

run "$WORK/reference" > "$WORK/reference.log" 2>&1
check "uninterrupted run" test $? -eq 0

CITYTILER_TEST_KILL_AFTER_TILES=5 run "$out" > "$WORK/killed.log" 2>&1
rc=$?
check "the run was killed (exit $rc = 128 + SIGKILL)" test "$rc" -eq 137
check "no tileset at the output path after the kill" test ! -e "$out"
check "the work directory is there" test -d "$out.partial"
# (the records: one line per finished tile, in .resume/records-K.jsonl)
done_tiles=$(cat "$out.partial/.resume/"records-*.jsonl 2>/dev/null | grep -c '"tile"')
check "at least 5 finished tiles recorded ($done_tiles)" test "$done_tiles" -ge 5
check "a GLB for every recorded tile" test "$(ls "$out.partial/tiles/" | grep -c '\.glb$')" -ge "$done_tiles"

run "$out" --resume > "$WORK/resumed.log" 2>&1
check "resumed run exits 0" test $? -eq 0
kept=$(sed -n 's/.*resumed: \([0-9]*\) of \([0-9]*\) tiles kept.*/\1/p' "$WORK/resumed.log")
check "resumed run kept the finished tiles ($kept >= $done_tiles)" test "${kept:-0}" -ge "$done_tiles"
check "work directory gone after the resumed run" test ! -e "$out.partial"
diff -r -x run-summary.json "$WORK/reference" "$out" > "$WORK/diff.log" 2>&1
check "resumed output is byte-identical to the uninterrupted run" test $? -eq 0

# Stopped by SIGTERM (a batch queue's time limit): the log says what is kept and how to
# finish (it ended mid-stage without a word), the exit status is still the signal's, and
# --resume finishes. With --log-format json that line is JSON too, with a time and the
# stage as every other line (then bash's own "Terminated").
CITYTILER_TEST_KILL_AFTER_TILES=4 CITYTILER_TEST_KILL_SIGNAL=TERM run "$WORK/termed" --log-format json \
  > "$WORK/termed.log" 2>&1
rc=$?
check "SIGTERM: exit $rc = 128 + SIGTERM" test "$rc" -eq 143
grep '^{' "$WORK/termed.log" | tail -1 | node -e 'const l = JSON.parse(require("fs").readFileSync(0, "utf8"));
  process.exit(l.level === "error" && l.message.startsWith("stopped by SIGTERM: tiles already written stay in the output'"'"'s .partial folder") &&
    l.message.includes("--resume") && /^\d{4}-\d\d-\d\dT/.test(l.time) && l.stage === "writers.3dtiles" ? 0 : 1)'
check "SIGTERM: the log's last JSON line says what is kept and to --resume, with its time and stage" test $? -eq 0
check "SIGTERM: the work directory stays" test -d "$WORK/termed.partial" -a ! -e "$WORK/termed"
run "$WORK/termed" --resume > "$WORK/termed-resumed.log" 2>&1
check "SIGTERM: --resume finishes (exit 0)" test $? -eq 0
diff -r -x run-summary.json "$WORK/reference" "$WORK/termed" > /dev/null 2>&1
check "SIGTERM: resumed output is byte-identical to the uninterrupted run" test $? -eq 0

# A run started with SIGHUP ignored (nohup) keeps it ignored: it died of the hang-up.
(trap '' HUP; CITYTILER_TEST_KILL_AFTER_TILES=4 CITYTILER_TEST_KILL_SIGNAL=HUP exec "$CLI" run "$SRC/pipelines/sample.json" \
  --set writers.3dtiles.max_buildings_per_tile=12 --set "writers.3dtiles.path=$WORK/nohup" > "$WORK/nohup.log" 2>&1)
check "SIGHUP ignored at the start (nohup): the run finishes, exit 0 (got $?)" test $? -eq 0 -a -s "$WORK/nohup/tileset.json"
CITYTILER_TEST_KILL_AFTER_TILES=4 CITYTILER_TEST_KILL_SIGNAL=HUP "$CLI" run "$SRC/pipelines/sample.json" \
  --set writers.3dtiles.max_buildings_per_tile=12 --set "writers.3dtiles.path=$WORK/hup" > "$WORK/hup.log" 2>&1
check "SIGHUP not ignored: exit 129 (got $?)" test $? -eq 129
# SIGUSR1 (Slurm's --signal warning before a time limit) stops the run like SIGTERM, with
# its line (it killed the run without one).
CITYTILER_TEST_KILL_AFTER_TILES=4 CITYTILER_TEST_KILL_SIGNAL=USR1 run "$WORK/usr1" > "$WORK/usr1.log" 2>&1
check "SIGUSR1: exit 138 (got $?)" test $? -eq 138
check "SIGUSR1: the stop line" grep -q "stopped by SIGUSR1: tiles already written stay in the output's .partial folder" "$WORK/usr1.log"
run "$WORK/usr1" --resume > /dev/null 2>&1
diff -r -x run-summary.json "$WORK/reference" "$WORK/usr1" > /dev/null 2>&1
check "SIGUSR1: --resume finishes, the same bytes" test $? -eq 0

# A finished tile whose GLB went missing or was cut (its record alone survived) is written
# again: the resumed tileset pointed at a missing file, or kept the broken one.
CITYTILER_TEST_KILL_AFTER_TILES=6 run "$WORK/damaged" > /dev/null 2>&1
glbs=$(ls "$WORK/damaged.partial/tiles/" | grep '\.glb$' | sort)
gone=$(echo "$glbs" | sed -n 1p) cut=$(echo "$glbs" | sed -n 2p)
check "damaged: two finished GLBs to damage ($gone, $cut)" test -n "$gone" -a -n "$cut"
rm -f "$WORK/damaged.partial/tiles/$gone"
head -c 100 "$WORK/reference/tiles/$cut" > "$WORK/damaged.partial/tiles/$cut"
run "$WORK/damaged" --resume > "$WORK/damaged.log" 2>&1
check "damaged: resumed run exits 0" test $? -eq 0
diff -r -x run-summary.json "$WORK/reference" "$WORK/damaged" > "$WORK/damaged-diff.log" 2>&1
check "damaged: the two tiles written again, output byte-identical" test $? -eq 0

# A record cut by the kill (no newline) and a damaged line are skipped: their tiles are
# written again, the others kept. (Appended here, as a kill between the two writes of one
# line is rare to catch.)
CITYTILER_TEST_KILL_AFTER_TILES=5 run "$WORK/torn" > /dev/null 2>&1
torn_records=("$WORK/torn.partial/.resume/"records-*.jsonl)
recorded=$(cat "${torn_records[@]}" | grep -c '"tile"')
first=$(sed -n 1p "${torn_records[0]}")
sed -i 1d "${torn_records[0]}"
printf '{"tile":"x",broken\n%s' "${first:0:60}" >> "${torn_records[0]}"
run "$WORK/torn" --resume > "$WORK/torn.log" 2>&1
check "torn record: resumed run exits 0" test $? -eq 0
kept=$(sed -n 's/.*resumed: \([0-9]*\) of \([0-9]*\) tiles kept.*/\1/p' "$WORK/torn.log")
check "torn record: the other $((recorded - 1)) tiles kept, not the cut one ($kept)" test "${kept:-0}" -eq $((recorded - 1))
diff -r -x run-summary.json "$WORK/reference" "$WORK/torn" > /dev/null 2>&1
check "torn record: output byte-identical to the uninterrupted run" test $? -eq 0

# Replacing a tileset: the new one and the earlier one are swapped in one step (a kill
# between the two renames of before left nothing at the path, the earlier tileset
# stranded at PATH.old-PID). Killed right after the swap: the path holds the new tileset,
# whole; the earlier one, left at the work path, holds no record of a run, so --resume
# keeps nothing of it (it kept its tiles whatever the options: QA 6 D3) and the next run
# removes it.
run "$WORK/swap" > /dev/null 2>&1
run "$WORK/swap-meshopt" --set writers.3dtiles.compression=meshopt > /dev/null 2>&1
CITYTILER_TEST_KILL_IN_COMMIT=1 run "$WORK/swap" --set writers.3dtiles.compression=meshopt > "$WORK/swap.log" 2>&1
check "swap: killed (exit $?)" test -d "$WORK/swap.partial"
diff -r -x run-summary.json "$WORK/swap-meshopt" "$WORK/swap" > /dev/null 2>&1
check "swap: the path holds the new tileset, whole" test $? -eq 0
run "$WORK/swap" --set writers.3dtiles.compression=meshopt --resume > "$WORK/swap-resume.log" 2>&1
check "swap: --resume exits 0" test $? -eq 0
check "swap: --resume keeps nothing of a folder without a record of its run" \
  grep -q "no record of the inputs and options of the run there (.resume/fingerprint): nothing is kept from it" "$WORK/swap-resume.log"
diff -r -x run-summary.json "$WORK/swap-meshopt" "$WORK/swap" > /dev/null 2>&1
check "swap: then the same bytes as a fresh run" test $? -eq 0
check "swap: no work folder left" test ! -e "$WORK/swap.partial"
# An earlier tileset a run was removing when it was stopped (PATH.old-PID, PID gone): the
# next run removes it; a folder of that name holding something else stays.
cp -r "$WORK/swap-meshopt" "$WORK/swap.old-999999999"
mkdir -p "$WORK/swap.old-999999998" && echo mine > "$WORK/swap.old-999999998/notes.txt"
run "$WORK/swap" --set writers.3dtiles.compression=meshopt > "$WORK/swap-stale.log" 2>&1
check "stale: exit 0" test $? -eq 0
check "stale: the earlier tileset's folder removed, said" test ! -e "$WORK/swap.old-999999999" -a -n "$(grep 'swap.old-999999999: removed' "$WORK/swap-stale.log")"
check "stale: a folder holding a file citytiler does not write stays" test -f "$WORK/swap.old-999999998/notes.txt"
check "stale: no .old folder of this run" test -z "$(ls -d "$WORK"/swap.old-* | grep -v 99999999)"

# A TMPDIR that cannot be written: refused before any stage (exit 2), where the first point
# written there failed (exit 1) after the reading.
TMPDIR="$WORK/no-such-dir" run "$WORK/tmpdir" --set readers.lidar.memory_limit=1 > "$WORK/tmpdir.log" 2>&1
rc=$?
check "TMPDIR missing: exit 2 ($rc)" test "$rc" -eq 2
check "TMPDIR missing: says so" grep -q "TMPDIR '$WORK/no-such-dir' (where points beyond memory_limit go) is not a directory" "$WORK/tmpdir.log"
check "TMPDIR missing: nothing written" test ! -e "$WORK/tmpdir" -a ! -e "$WORK/tmpdir.partial"

# Resuming a run made with other options is refused (exit 2), and nothing is written.
CITYTILER_TEST_KILL_AFTER_TILES=3 run "$WORK/other" > /dev/null 2>&1
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$WORK/other" --resume \
  --set writers.3dtiles.max_buildings_per_tile=30 > "$WORK/other.log" 2>&1
check "resume with other options: exit 2" test $? -eq 2
check "resume with other options: says why" grep -q "other inputs or options" "$WORK/other.log"
check "resume with other options: no output" test ! -e "$WORK/other"

# Footprints whose attributes were edited between the kill and --resume (a database
# updated overnight): refused, where the tiles of old and new values were mixed.
cp "$SRC/data-samples/delft/bgt_pand.gpkg" "$WORK/edited.gpkg"
sed "s#../data-samples/delft/bgt_pand.gpkg#$WORK/edited.gpkg#; s#../data-samples/#$SRC/data-samples/#" \
  "$SRC/pipelines/sample.json" > "$WORK/edited.json"
CITYTILER_TEST_KILL_AFTER_TILES=3 "$CLI" run "$WORK/edited.json" --set "writers.3dtiles.path=$WORK/edited" \
  --set writers.3dtiles.max_buildings_per_tile=12 > /dev/null 2>&1
check "edited attributes: the first run was killed" test -d "$WORK/edited.partial"
ogrinfo "$WORK/edited.gpkg" -dialect SQLite -sql "UPDATE bgt_pand SET bgt_status = 'edited'" > /dev/null 2>&1
"$CLI" run "$WORK/edited.json" --set "writers.3dtiles.path=$WORK/edited" --set writers.3dtiles.max_buildings_per_tile=12 \
  --resume > "$WORK/edited.log" 2>&1
check "edited attributes: --resume refused (exit 2), saying why" test $? -eq 2 -a -n "$(grep "other inputs or options" "$WORK/edited.log")"
finish
