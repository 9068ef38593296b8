# readers.footprints on a PostGIS database (a `PG:` connection string): a throwaway
# PostgreSQL server on a Unix socket in a temporary folder, the Delft footprints loaded
# with ogr2ogr, read back through the pipeline: 160 buildings, valid tiles.
. "$(dirname "$0")/common.bash"
need_validators
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  echo "FAIL: PostgreSQL missing: run tools/install-deps.sh (postgresql, postgresql-*-postgis-3)"
  exit 1
fi
# PostgreSQL refuses to run as root: run it as the postgres user in its own folder.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgdir=$(mktemp -d /tmp/citytiler-pg.XXXXXX)
chmod 777 "$pgdir"
[ "$(id -u)" -eq 0 ] && chown postgres "$pgdir"
port=$((20000 + RANDOM % 20000))
cleanup() { as_pg "$pgbin/pg_ctl" -D "$pgdir/data" stop -m immediate > /dev/null 2>&1; rm -rf "$pgdir"; }
trap cleanup EXIT
as_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust > "$WORK/initdb.log" 2>&1
check "initdb" test $? -eq 0
as_pg "$pgbin/pg_ctl" -D "$pgdir/data" -o "-p $port -k $pgdir -c listen_addresses=''" -w -t 60 start > "$WORK/pg.log" 2>&1
check "PostgreSQL started on a Unix socket" test $? -eq 0
as_pg "$pgbin/psql" -h "$pgdir" -p "$port" -U postgres -c "CREATE DATABASE city" > /dev/null 2>&1 &&
  as_pg "$pgbin/psql" -h "$pgdir" -p "$port" -U postgres -d city -c "CREATE EXTENSION postgis" > "$WORK/postgis.log" 2>&1
check "PostGIS enabled" test $? -eq 0
conn="PG:host=$pgdir port=$port dbname=city user=postgres"
ogr2ogr -f PostgreSQL "$conn" "$SRC/data-samples/delft/bgt_pand.gpkg" bgt_pand > "$WORK/ogr2ogr.log" 2>&1
check "footprints loaded with ogr2ogr" test $? -eq 0
cat > "$WORK/pg.json" <<JSON
{"pipeline": [
  {"type": "readers.footprints", "path": "$conn", "layer": "bgt_pand", "id_field": "gml_id"},
  {"type": "filters.extrude"},
  {"type": "writers.3dtiles", "path": "$WORK/tiles"}]}
JSON
"$CLI" run "$WORK/pg.json" > "$WORK/run.log" 2>&1
check "pipeline from PG: exit 0" test $? -eq 0
check "160 buildings read from PostGIS and written" grep -q "done: 160 features read, 160 buildings written" "$WORK/run.log"
node "$SRC/tools/validate/validate-glb.mjs" "$WORK/tiles" > /dev/null 2>&1
check "tiles valid" test $? -eq 0
# A wrong table is an error naming it (exit 2).
sed 's/"layer": "bgt_pand"/"layer": "no_such_table"/' "$WORK/pg.json" > "$WORK/pg-bad.json"
"$CLI" run "$WORK/pg-bad.json" > "$WORK/bad.log" 2>&1
check "unknown PG table: exit 2" test $? -eq 2
check "unknown PG table: named" grep -q "no_such_table" "$WORK/bad.log"
finish
