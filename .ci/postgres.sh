# Starts a throwaway PostgreSQL server for the store tests and exports its URL.
#
#   source .ci/postgres.sh        # then: cargo test
#
# Sets CLEANPATH_TEST_PG (postgres://postgres@127.0.0.1:PORT/cleanpath_test) and
# CLEANPATH_TEST_PG_DIR (data directory, socket and log). Idempotent: when the server
# named by CLEANPATH_TEST_PG_DIR still runs, it is reused. Installs the server with apt
# when no /usr/lib/postgresql/*/bin/initdb exists (Debian 12, as root). The server has
# fsync off (it is thrown away) and trusts local connections; it listens on 127.0.0.1 and
# on a Unix socket in its temporary directory. Stop it with:
#   "$CLEANPATH_TEST_PG_BIN/pg_ctl" -D "$CLEANPATH_TEST_PG_DIR/data" stop   (as postgres)

_cleanpath_pg_start() {
  local bin dir port as
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "postgres.sh: installing postgresql (apt)" >&2
    apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -x "$bin/initdb" ] || { echo "postgres.sh: no initdb after install" >&2; return 1; }
  fi
  # Run the server as `postgres` when root (PostgreSQL refuses to run as root).
  if [ "$(id -u)" = 0 ]; then
    as=(runuser -u postgres --)
  else
    as=()
  fi
  if [ -n "${CLEANPATH_TEST_PG_DIR:-}" ] && [ -n "${CLEANPATH_TEST_PG:-}" ] \
    && "${as[@]}" "$bin/pg_ctl" -D "$CLEANPATH_TEST_PG_DIR/data" status >/dev/null 2>&1; then
    echo "postgres.sh: reusing $CLEANPATH_TEST_PG" >&2
    return 0
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/cleanpath-pg.XXXXXX") || return 1
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-locale \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  # A free port: the first from 54329 up that nothing answers on.
  port=54329
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" \
    start >/dev/null || { cat "$dir/server.log" >&2; return 1; }
  "${as[@]}" "$bin/createdb" -h "$dir" -p "$port" -U postgres cleanpath_test || return 1
  export CLEANPATH_TEST_PG="postgres://postgres@127.0.0.1:$port/cleanpath_test"
  export CLEANPATH_TEST_PG_DIR="$dir"
  export CLEANPATH_TEST_PG_BIN="$bin"
  echo "postgres.sh: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') at $CLEANPATH_TEST_PG (socket dir $dir)" >&2
}

if ! _cleanpath_pg_start; then
  echo "postgres.sh: could not start PostgreSQL" >&2
  # Sourced: leave CLEANPATH_TEST_PG unset so the store tests fail loudly in CI.
  return 1 2>/dev/null || exit 1
fi
