#!/usr/bin/env bash
# Make the local PostgreSQL ready for the test suite (called by `make test` and `.ci/run`):
# server installed and up on 127.0.0.1:5432, user `postgres` accepted over TCP without a password,
# and the database the suite connects to (`test`, or ECVET_TEST_PG_DB) present. Each pytest session
# then creates and drops its own private database from there.
#
# Without PostgreSQL the suite still runs on SQLite and skips its PostgreSQL half, naming the reason;
# with ECVET_REQUIRE_PG=1 (CI) any failure here stops `make test` instead.
set -u
HOST=127.0.0.1
PORT=5432
DB=${ECVET_TEST_PG_DB:-test}
REQUIRE=${ECVET_REQUIRE_PG:-0}

give_up() {
  echo "ensure-postgres: $1" >&2
  if [ "$REQUIRE" = "1" ]; then exit 1; fi
  echo "ensure-postgres: the PostgreSQL half of the suite will be skipped" >&2
  exit 0
}

as_postgres() { runuser -u postgres -- "$@"; }
is_root() { [ "$(id -u)" = "0" ]; }

if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  if is_root && command -v apt-get >/dev/null 2>&1; then
    echo "ensure-postgres: installing PostgreSQL from Debian's packages"
    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql) >/dev/null \
      || give_up "apt-get could not install postgresql"
  else
    give_up "PostgreSQL is not installed (and we are not root to install it)"
  fi
fi

if ! pg_isready -h "$HOST" -p "$PORT" -q; then
  for version in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
  done
  for _ in $(seq 1 30); do pg_isready -h "$HOST" -p "$PORT" -q && break; sleep 1; done
  pg_isready -h "$HOST" -p "$PORT" -q || give_up "no PostgreSQL server answers on $HOST:$PORT"
fi

tcp_ok() { PGCONNECT_TIMEOUT=5 psql -w -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; }

if ! tcp_ok; then
  is_root || give_up "user postgres is refused over TCP without a password, and only root may change that"
  # Development and CI machines only: trust the postgres user from this machine's loopback address.
  hba=$(as_postgres psql -Atqc 'SHOW hba_file' 2>/dev/null) || give_up "cannot reach the server as the postgres OS user"
  if ! grep -q '^host[[:space:]]\+all[[:space:]]\+postgres[[:space:]]\+127.0.0.1/32[[:space:]]\+trust' "$hba"; then
    sed -i '1i host all postgres 127.0.0.1/32 trust  # added by ecvet-flow scripts/ensure-postgres.sh (tests)' "$hba"
  fi
  as_postgres psql -Atqc 'SELECT pg_reload_conf()' >/dev/null
  sleep 1
  tcp_ok || give_up "user postgres is still refused over TCP on $HOST:$PORT"
fi

exists=$(PGCONNECT_TIMEOUT=5 psql -w -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc \
  "SELECT 1 FROM pg_database WHERE datname = '$DB'") || give_up "cannot list databases"
if [ "$exists" != "1" ]; then
  echo "ensure-postgres: creating database $DB"
  PGCONNECT_TIMEOUT=5 psql -w -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc "CREATE DATABASE \"$DB\"" >/dev/null \
    || give_up "cannot create database $DB"
fi
exit 0
