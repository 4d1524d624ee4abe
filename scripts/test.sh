#!/usr/bin/env bash
# Sets up and runs the whole test suite on a fresh Debian machine:
# system packages (chromium, postgresql), the virtualenv, a throwaway
# PostgreSQL server on 127.0.0.1, then lint, type checks and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v git >/dev/null || missing+=(git)
command -v make >/dev/null || missing+=(make)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing system packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Playwright must use Debian's chromium; its own browser download does not work here.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

if [ -z "${CLM_TEST_POSTGRES_URL:-}" ]; then
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  pgdir=$(mktemp -d /tmp/clm-pg.XXXXXX)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  [ "$(id -u)" = 0 ] && chown postgres "$pgdir"
  run_pg "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync >/dev/null
  run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-h 127.0.0.1 -p $port -k $pgdir -c fsync=off -c max_connections=200" start >/dev/null
  trap 'run_pg "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
  export CLM_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$port/postgres"
  echo "throwaway PostgreSQL on 127.0.0.1:$port"
fi

make test PYTEST_ARGS="${PYTEST_ARGS:-}"
