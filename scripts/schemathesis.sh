#!/usr/bin/env bash
# Schemathesis against a demo server: every operation of the OpenAPI document but the endless
# server-sent stream, once without an account and once with a token of each role, checking that
# nothing answers 5xx and that every answer (status and body) is what the document says.
# Installs schemathesis from PyPI into target/schemathesis-venv on first use. Called by
# scripts/test after the cargo tests; runs on its own too: ./scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
venv=target/schemathesis-venv
if ! python3 -m venv --help > /dev/null 2>&1; then
  echo "schemathesis: installing Python's venv from Debian" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip > /dev/null
fi
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "$VERSION"; then
  echo "schemathesis: installing schemathesis $VERSION from PyPI into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$VERSION"
fi

cargo build -q --locked -p wangge
bin=target/debug/wangge
work=$(mktemp -d)
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A small demo city of its own (a few events a day keeps it quick), and a token per role.
"$bin" demo --data-dir "$work/data" --events-per-day 10 --no-serve > "$work/demo.log" 2>&1
accounts=(wgy.zhang sq.li jd.wang zh.zhao pcs.liu tj.sun ld.zhou xt.admin aq.admin sj.admin)
for a in "${accounts[@]}"; do
  "$bin" --data-dir "$work/data" token create --username "$a" --name schemathesis 2>/dev/null > "$work/token.$a"
done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
WANGGE_LOG=warn "$bin" --data-dir "$work/data" serve --listen "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && break
  sleep 0.1
done
schema="http://127.0.0.1:$port/api/v1/openapi.json"

run() { # name, then extra arguments for st
  local name=$1; shift
  local start=$SECONDS
  if "$venv/bin/st" run "$schema" "$@" \
      --exclude-path /api/v1/events/counters/stream \
      --checks not_a_server_error,status_code_conformance,response_schema_conformance \
      --max-examples "${SCHEMATHESIS_EXAMPLES:-10}" --phases examples,coverage,fuzzing \
      --seed "${SCHEMATHESIS_SEED:-2026}" --no-color > "$work/st.$name.log" 2>&1; then
    echo "schemathesis: $name: $(grep -Eo '[0-9]+ generated, [0-9]+ passed' "$work/st.$name.log" | tail -n 1) ($((SECONDS - start)) s)"
  else
    echo "schemathesis: $name: FAILED" >&2
    cat "$work/st.$name.log" >&2
    echo "--- server log ---" >&2
    tail -n 50 "$work/serve.log" >&2
    exit 1
  fi
}

run anonymous
for a in "${accounts[@]}"; do
  run "$a" -H "Authorization: Bearer $(cat "$work/token.$a")"
done
echo "schemathesis: $((${#accounts[@]} + 1)) runs passed"
