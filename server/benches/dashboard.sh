#!/usr/bin/env bash
# The resident's dashboard under load on loopback, beside a static file from the same server:
# `server/benches/dashboard.sh [BASE_URL] [SECONDS]` against a running server with the demo's
# data (`.ci/demo`, or the release binary with PREPAID_DEMO=true). Needs wrk (Debian's `wrk`).
#
# Signs in as the demo resident a101 (a session like a browser's), then runs wrk with 2
# threads and 32 connections on `/` (the home page: balances, days left, live cards, drawn by
# the server from the database on every request) and on the service worker script, a static
# file the same router serves. Prints requests/s and the latency distribution of each.
set -euo pipefail
base=${1:-http://127.0.0.1:3000}
seconds=${2:-15}
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT

curl -sS -o /dev/null -c "$jar" -H "Origin: $base" \
  --data-urlencode "email=a101@demo.example" --data-urlencode "password=prepaid-demo" \
  "$base/api/sign_in"
session=$(awk '$6 == "prepaid_session" { print $7 }' "$jar")
if [ -z "$session" ]; then
  echo "could not sign in at $base" >&2
  exit 1
fi
page=$(curl -sS -o /dev/null -w '%{http_code}' -H "Cookie: prepaid_session=$session" "$base/")
if [ "$page" != 200 ]; then
  echo "the dashboard answered $page" >&2
  exit 1
fi

echo "== the resident's dashboard (GET /, signed in)"
wrk -t2 -c32 -d"${seconds}s" --latency -H "Cookie: prepaid_session=$session" "$base/"
echo
echo "== a static file from the same server (GET /sw.js)"
wrk -t2 -c32 -d"${seconds}s" --latency "$base/sw.js"
