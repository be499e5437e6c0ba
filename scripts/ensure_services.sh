#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1, starting (or, with CI=true or as root
# on a machine without them, installing) them when needed. Creates the `dorami` role.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=${PGPORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

can_install() { [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; }

apt_install() {
  if can_install; then
    echo "==> apt-get install $*"
    if [ ! -f /tmp/.dorami-apt-updated ]; then apt-get update -qq && touch /tmp/.dorami-apt-updated; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "!! Missing: $*. Install them with: sudo apt-get install -y $*" >&2
    exit 1
  fi
}

# --- PostgreSQL --------------------------------------------------------------------------
if ! pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-contrib
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n1)
  echo "==> starting PostgreSQL $version"
  if [ "$(id -u)" = "0" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  else
    echo "!! PostgreSQL is down. Start it with: sudo pg_ctlcluster $version main start" >&2
    exit 1
  fi
  for _ in $(seq 1 30); do pg_isready -h "$PGHOST" -p "$PGPORT" -q && break; sleep 0.5; done
  pg_isready -h "$PGHOST" -p "$PGPORT" -q || { echo "!! PostgreSQL did not start" >&2; exit 1; }
fi

psql_admin() {
  if psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
    psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAc "$1"
  elif [ "$(id -u)" = "0" ]; then
    su postgres -c "psql -p $PGPORT -d postgres -v ON_ERROR_STOP=1 -tAc \"$1\""
  else
    echo "!! Cannot reach PostgreSQL as an admin to create the 'dorami' role." >&2
    echo "   Run: sudo -u postgres psql -c \"CREATE ROLE dorami LOGIN PASSWORD 'dorami' CREATEDB\"" >&2
    exit 1
  fi
}
if [ "$(psql_admin "SELECT 1 FROM pg_roles WHERE rolname='dorami'")" != "1" ]; then
  echo "==> creating PostgreSQL role dorami"
  psql_admin "CREATE ROLE dorami LOGIN PASSWORD 'dorami' CREATEDB"
fi
if [ "$(psql_admin "SELECT 1 FROM pg_database WHERE datname='dorami'")" != "1" ]; then
  psql_admin "CREATE DATABASE dorami OWNER dorami"
fi

# --- Redis -------------------------------------------------------------------------------
# The binary is needed even when a Redis already answers: the outage tests run their own.
command -v redis-server >/dev/null || apt_install redis-server
if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
  echo "==> starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    >/dev/null
  for _ in $(seq 1 30); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "!! Redis did not start" >&2; exit 1; }
fi
echo "==> PostgreSQL and Redis are up"
