#!/usr/bin/env bash
# Lint, type-check and run the test suite on SQLite and on PostgreSQL.
#
# PostgreSQL: if CONNECTOR_TEST_POSTGRES_URL is set, that server is used; otherwise, when PostgreSQL's
# server programs are installed, a throwaway server is started on a free loopback port for this run and
# stopped afterwards. Without either, the PostgreSQL tests are skipped (CI sets
# CONNECTOR_REQUIRE_POSTGRES=1, which turns that skip into a failure).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VENV:-.venv}/bin

"$BIN/ruff" check connector adapters tests bench scripts
"$BIN/ruff" format --check connector adapters tests bench scripts
"$BIN/mypy"
"$BIN/mypy" --strict --explicit-package-bases scripts tests bench   # the rest of the tree, as strictly
"$BIN/cfn-lint" template.yaml   # the AWS SAM template, offline

pg_dir=""
stop_postgres() {
  if [[ -n "$pg_dir" ]]; then
    $as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
  fi
}

if [[ -z "${CONNECTOR_TEST_POSTGRES_URL:-}" ]]; then
  pg_ctl_path=$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -z "$pg_ctl_path" ]] && pg_ctl_path=$(command -v pg_ctl || true)
  if [[ -n "$pg_ctl_path" ]]; then
    pg_bin=$(dirname "$(readlink -f "$pg_ctl_path")")
    as_pg=""
    if [[ $(id -u) -eq 0 ]]; then as_pg="runuser -u postgres --"; fi   # initdb refuses to run as root
    pg_dir=$(mktemp -d /tmp/helpdesk-pg.XXXXXX)
    [[ -n "$as_pg" ]] && chown postgres "$pg_dir"
    trap stop_postgres EXIT
    port=$("$BIN/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    $as_pg "$pg_bin/initdb" -D "$pg_dir/data" -U helpdesk -A trust --no-sync >/dev/null
    $as_pg "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $pg_dir -c fsync=off -c full_page_writes=off" start >/dev/null
    export CONNECTOR_TEST_POSTGRES_URL="postgresql://helpdesk@127.0.0.1:$port/postgres"
    echo "PostgreSQL for the tests: 127.0.0.1:$port ($("$pg_bin/postgres" --version))"
  else
    echo "PostgreSQL server programs not found: PostgreSQL tests will be skipped"
  fi
fi

# one worker per core (TEST_WORKERS=0 runs in this process): half the time on two cores
"$BIN/pytest" -n "${TEST_WORKERS:-auto}" "$@"
