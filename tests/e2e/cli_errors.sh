# Bad input gets a clear message and exit code 2, and leaves no output behind.
. "$(dirname "$0")/common.bash"
gpkg="$SRC/data-samples/delft/bgt_pand.gpkg"

# expect_error NAME PIPELINE_JSON MESSAGE_REGEX: runs the pipeline, expects exit 2,
# a message matching the regex, and no output directory.
expect_error() {
  local name=$1 json=$2 pattern=$3
  local p="$WORK/$name.json" out="$WORK/$name-out"
  printf '%s\n' "$json" > "$p"
  "$CLI" run "$p" --set "writers.3dtiles.path=$out" > "$WORK/$name.log" 2>&1
  local rc=$?
  check "$name: exit code 2 (got $rc)" test "$rc" -eq 2
  check "$name: message matches /$pattern/" grep -Eq "$pattern" "$WORK/$name.log"
  check "$name: no output written" test ! -e "$out" -a -z "$(ls -d "$out".partial 2>/dev/null)"
}
W='{"type": "writers.3dtiles", "path": "x"}'
E='{"type": "filters.extrude"}'

"$CLI" run "$WORK/does-not-exist.json" > "$WORK/nofile.log" 2>&1
check "missing pipeline file: exit 2" test $? -eq 2
check "missing pipeline file: named" grep -q "does-not-exist.json" "$WORK/nofile.log"
# A folder given as the pipeline ("invalid JSON: '[' or '{' expected" before).
"$CLI" run "$WORK" > "$WORK/folder.log" 2>&1
check "a folder as the pipeline: exit 2, says so" test $? -eq 2 -a -n "$(grep -F "$WORK: is a folder, not a pipeline file" "$WORK/folder.log")"
# A pipeline file starting with a UTF-8 byte order mark (Windows editors) runs; it was
# refused as invalid JSON, the mark invisible in the message.
{ printf '\xef\xbb\xbf'; printf '{"pipeline": [{"type": "readers.footprints", "path": "%s"}, %s, %s]}\n' "$gpkg" "$E" "$W"; } > "$WORK/bom.json"
"$CLI" run "$WORK/bom.json" --set "writers.3dtiles.path=$WORK/bom-out" > "$WORK/bom.log" 2>&1
check "a pipeline file with a byte order mark runs (exit $?)" test -s "$WORK/bom-out/tileset.json"

expect_error missing_input "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$WORK/nope.gpkg\"}, $E, $W]}" \
  "missing_input\.json: stage 0 \(readers\.footprints\): option 'path': '.*/nope\.gpkg' does not exist"
# A missing LAS (or a glob matching none) after the footprints: refused before anything
# runs, not once the footprints have been read (minutes, for a city).
expect_error missing_lidar "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$gpkg\"}, {\"type\": \"readers.lidar\", \"path\": [\"$SRC/data-samples/delft/delft_ahn3_every4th_epsg28992.las\", \"nope.las\"]}, $E, $W]}" \
  "missing_lidar\.json: stage 1 \(readers\.lidar\): option 'path': '.*/nope\.las' does not exist \(a relative path is taken from the pipeline file's folder\)"
check "missing_lidar: nothing read first" test -z "$(grep 'stage 0: readers.footprints' "$WORK/missing_lidar.log")"
expect_error lidar_glob_none "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$gpkg\"}, {\"type\": \"readers.lidar\", \"path\": \"$WORK/*.nolas\"}, $E, $W]}" \
  "lidar_glob_none\.json: stage 1 \(readers\.lidar\): option 'path': '.*/\*\.nolas': pattern matches no file"
expect_error invalid_json "{\"pipeline\": [ {\"type\": \"filters.extrude\",, } ]}" \
  "invalid_json\.json:1:[0-9]+: invalid JSON"
expect_error unknown_stage "{\"pipeline\": [{\"type\": \"filters.levitate\"}, $W]}" \
  "stage 0: unknown stage type 'filters.levitate'"
expect_error unknown_option "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$gpkg\", \"hieght\": 3}, $E, $W]}" \
  "stage 0 \(readers.footprints\): unknown option 'hieght'"
expect_error wrong_type "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$gpkg\"}, {\"type\": \"filters.extrude\", \"height\": \"tall\"}, $W]}" \
  "stage 1 \(filters.extrude\): option 'height' must be a number"
expect_error layer_not_found "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$gpkg\", \"layer\": \"roads\"}, $E, $W]}" \
  "layer 'roads' not found \(layers: bgt_pand\)"

# A GeoJSON without CRS member is WGS84 by the RFC, so use a CSV with WKT geometry: it has none.
printf 'id,WKT\n1,"POLYGON((0 0,10 0,10 10,0 10,0 0))"\n' > "$WORK/nocrs.csv"
expect_error no_crs "{\"pipeline\": [{\"type\": \"readers.footprints\", \"path\": \"$WORK/nocrs.csv\"}, $E, $W]}" \
  "nocrs\.csv: layer 'nocrs' has no CRS; give the stage an \"srs\" option"

# Command-line mistakes.
"$CLI" run "$SRC/pipelines/sample.json" --threads zero > "$WORK/threads.log" 2>&1
check "--threads zero: exit 2" test $? -eq 2
# Like every usage error of run, it names the command (it began "citytiler: --threads").
check "--threads zero: 'citytiler run: --threads' and the value" grep -q "^citytiler run: --threads .*'zero'" "$WORK/threads.log"
# An option whose value is missing says so (it was "unknown or incomplete option").
"$CLI" run "$SRC/pipelines/sample.json" --memory-limit > "$WORK/novalue.log" 2>&1
check "--memory-limit without a value: exit 2, named" test $? -eq 2 -a -n "$(grep -F "option '--memory-limit' needs a value" "$WORK/novalue.log")"
# --memory-limit 0 is refused (it caps the stage's limit), saying how to lift the limit.
"$CLI" run "$SRC/pipelines/sample.json" --memory-limit 0 > "$WORK/limit0.log" 2>&1
check "--memory-limit 0: exit 2, says how to lift the limit" test $? -eq 2 -a -n "$(grep -F -- "--set readers.lidar.memory_limit=0 lifts the limit), got '0'" "$WORK/limit0.log")"
"$CLI" run "$SRC/pipelines/sample.json" --set filters.nothing.x=1 > "$WORK/set.log" 2>&1
check "--set of a stage not in the pipeline: exit 2" test $? -eq 2
"$CLI" frobnicate > /dev/null 2>&1
check "unknown command: exit 2" test $? -eq 2
"$CLI" --help | grep -q "usage: citytiler"
check "--help prints usage" test $? -eq 0
# A command's own help (it was "unknown or incomplete option '--help'", exit 2).
"$CLI" run --help > "$WORK/run-help.txt" 2>&1
check "run --help: exit 0" test $? -eq 0
check "run --help: the run options" grep -q -- "--memory-limit caps" "$WORK/run-help.txt"
"$CLI" run "$SRC/pipelines/sample.json" --set writers.3dtiles.path=--help -h > "$WORK/run-h.txt" 2>&1
check "run ... -h: help, nothing run" test $? -eq 0 -a ! -e "$SRC/pipelines/--help" -a -n "$(grep -- '--partition K/N builds' "$WORK/run-h.txt")"
"$CLI" merge --help | grep -q "after all \`run --partition K/N\` processes ended"
check "merge --help: what merge does" test $? -eq 0
"$CLI" info --help | grep -q "info FILE \[--classes\]"
check "info --help" test $? -eq 0
"$CLI" help stages | grep -q "list every stage type"
check "help stages" test $? -eq 0
"$CLI" frobnicate --help > /dev/null 2>&1
check "unknown command --help: exit 2" test $? -eq 2
"$CLI" --version | grep -Eq "^citytiler [0-9]+\.[0-9]+\.[0-9]+"
check "--version prints a version" test $? -eq 0
"$CLI" stages | grep -q "max_buildings_per_tile"
check "stages lists options" test $? -eq 0

# --log-format json: every log line is a JSON object with time (UTC, milliseconds), level
# and message, and the stage it came from while one runs.
"$CLI" run "$SRC/pipelines/sample.json" --log-format json --set "writers.3dtiles.path=$WORK/jsonlog" 2> "$WORK/jsonlog.err" > /dev/null
check "--log-format json: exit 0" test $? -eq 0
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  for (const l of lines) { const j = JSON.parse(l); if (!j.time || !j.level || typeof j.message !== "string") process.exit(1); }
  process.exit(lines.length > 5 ? 0 : 1)' "$WORK/jsonlog.err"
check "--log-format json: every line is a JSON log record" test $? -eq 0
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const times = lines.every((j) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(j.time) && !isNaN(Date.parse(j.time)));
  const h = lines.filter((j) => j.message.startsWith("filters.heights: 160 buildings"));
  const w = lines.filter((j) => j.message.startsWith("stage 5: writers.3dtiles done"));
  const done = lines.filter((j) => j.message.startsWith("done: "));
  process.exit(times && h.length === 1 && h[0].stage === "filters.heights" && w.length === 1 && w[0].stage === "writers.3dtiles" &&
    done.length === 1 && done[0].stage === undefined ? 0 : 1)' "$WORK/jsonlog.err"
check "--log-format json: millisecond UTC times; each stage's lines name it, the closing ones none" test $? -eq 0
# --quiet keeps the closing summary in a JSON log too (it dropped it: info lines).
"$CLI" run "$SRC/pipelines/sample.json" --quiet --log-format json --set "writers.3dtiles.path=$WORK/jsonlog_quiet" 2> "$WORK/jsonlog_quiet.err" > /dev/null
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const done = lines.filter((j) => j.message.startsWith("done: 160 features read") && j.summary === true);
  const chatter = lines.filter((j) => j.level === "info" && !j.summary);
  process.exit(done.length === 1 && chatter.length === 0 ? 0 : 1)' "$WORK/jsonlog_quiet.err"
check "--quiet --log-format json: the closing summary stays (summary: true), no other info line" test $? -eq 0
# A failing run's error is a JSON line too (it was printed as text, the one line of the log
# a JSON reader could not parse).
"$CLI" run "$SRC/pipelines/sample.json" --log-format json --set "readers.footprints.path=$WORK/none.gpkg" 2> "$WORK/jsonlog_error.err" > /dev/null
check "--log-format json, a failing run: exit 2" test $? -eq 2
node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
  const last = JSON.parse(lines[lines.length - 1]);
  for (const l of lines) JSON.parse(l);
  process.exit(last.level === "error" && last.message.includes("none.gpkg") ? 0 : 1)' "$WORK/jsonlog_error.err"
check "--log-format json, a failing run: every line, the error too, is a JSON log record" test $? -eq 0
"$CLI" run "$SRC/pipelines/sample.json" --log-format yaml > /dev/null 2>&1
check "--log-format yaml: exit 2" test $? -eq 2
# A bad option next to --log-format json (before or after it): the usage error is a JSON
# line too, naming the option.
for order in before after; do
  if [ $order = before ]; then args=(--threads zero --log-format json); else args=(--log-format json --threads zero); fi
  "$CLI" run "$SRC/pipelines/sample.json" "${args[@]}" > /dev/null 2> "$WORK/jsonlog_usage_$order.err"
  check "--log-format json, bad --threads $order it: exit 2" test $? -eq 2
  node -e 'const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n");
    const j = JSON.parse(lines[lines.length - 1]);
    process.exit(lines.length === 1 && j.level === "error" && j.message.includes("--threads") && j.message.includes("zero") ? 0 : 1)' \
    "$WORK/jsonlog_usage_$order.err"
  check "--log-format json, bad --threads $order it: one JSON error line naming the option" test $? -eq 0
done

# An existing non-empty directory that is not a tileset is never replaced.
mkdir -p "$WORK/precious" && echo keep > "$WORK/precious/notes.txt"
"$CLI" run "$SRC/pipelines/sample.json" --set "writers.3dtiles.path=$WORK/precious" > "$WORK/precious.log" 2>&1
check "refuses to replace a non-tileset directory: exit 2" test $? -eq 2
check "the directory is untouched" test -f "$WORK/precious/notes.txt"
# Arguments that were taken and meant nothing (or something else) are refused, exit 2.
"$CLI" stages extra > /dev/null 2> "$WORK/stages-extra.log"
check "stages with an argument: exit 2 (got $?)" test $? -eq 2
check "stages with an argument: says so" grep -q "citytiler stages: takes no arguments, got 'extra'" "$WORK/stages-extra.log"
"$CLI" run "$SRC/pipelines/sample.json" --quiet --verbose > /dev/null 2> "$WORK/quiet-verbose.log"
check "--quiet with --verbose: exit 2 (got $?)" test $? -eq 2
check "--quiet with --verbose: says to give one" grep -q "give one of them" "$WORK/quiet-verbose.log"
for bad in "1/ 2" "+1/2" " 1/2" "1/2 "; do
  "$CLI" run "$SRC/pipelines/sample.json" --partition "$bad" > /dev/null 2> "$WORK/partition-bad.log"
  check "--partition '$bad': exit 2 (got $?)" test $? -eq 2
done
finish
