#!/usr/bin/env bash
# The package as a user gets it: build, npm pack, install the tarball into a scratch project outside
# the repository, and there run a plain-JavaScript projection end to end on a real nats-server
# (prosa run, events in, rows in SQLite, SIGTERM exits 0), prosa/testkit and prosa/cim from
# JavaScript, and the `prosa init` scaffold's own tests against the same tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
export PATH="$PATH:/usr/sbin"
export CI=true

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prosa-package-check.XXXXXX")
NATS_PID=
RUN_PID=
cleanup() {
  [ -n "$RUN_PID" ] && kill "$RUN_PID" 2>/dev/null || true
  [ -n "$NATS_PID" ] && kill "$NATS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
step() { echo; echo "== $*"; }
fail() { echo "package check FAILED: $*" >&2; exit 1; }

step "npm pack (builds dist/ first)"
TARBALL="$WORK/$(npm pack --silent --pack-destination "$WORK" | tail -n 1)"
FILES=$(tar tzf "$TARBALL")
echo "$(basename "$TARBALL"): $(echo "$FILES" | wc -l) files"
if echo "$FILES" | grep -E '^package/(src|test|examples|\.ci|node_modules)/|\.test\.[jt]s$' | grep -v '^package/templates/'; then
  fail "the tarball holds sources, tests or tooling (above)"
fi

step "install the tarball into a scratch project (plain JavaScript)"
APP="$WORK/app"
mkdir -p "$APP"
cd "$APP"
echo '{ "name": "prosa-package-check", "private": true, "type": "module" }' >package.json
XSTATE=$(node -p "require('$REPO/package.json').dependencies.xstate")
npm install --no-audit --no-fund --loglevel=error "$TARBALL" "xstate@$XSTATE"
cp "$REPO"/.ci/package-check/*.mjs .
PROSA="$APP/node_modules/.bin/prosa"
node -e "const p = await import('prosa'); if (typeof p.createRuntime !== 'function') process.exit(1)" \
  || fail "import('prosa') from JavaScript"
test -f node_modules/prosa/dist/src/index.d.ts || fail "no type declarations"

step "the CLI answers without compiling anything"
for i in 1 2 3; do /usr/bin/time -f "prosa --help: %e s" "$PROSA" --help >/dev/null; done
for i in 1 2 3; do /usr/bin/time -f "prosa status (runtime.config.mjs): %e s" "$PROSA" status >/dev/null; done

step "a TypeScript config in a CommonJS project (npm init's default) loads"
CJS="$WORK/cjs-project"
mkdir -p "$CJS/node_modules"
ln -s "$APP/node_modules/prosa" "$CJS/node_modules/prosa"
echo '{ "name": "cjs-project", "private": true, "type": "commonjs" }' >"$CJS/package.json"
cat >"$CJS/runtime.config.ts" <<'TS'
import { defineConfig } from 'prosa';
import { topology } from 'prosa/cim';
export default defineConfig({ projections: [topology] });
TS
(cd "$CJS" && env -u NATS_URL "$PROSA" status --json) | grep -q '"name": "topology"' \
  || fail "runtime.config.ts in a CommonJS project"
echo "runtime.config.ts loads in a CommonJS project"

step "a projection in runtime.config.mjs, end to end on a nats-server"
PORT=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$WORK/nats" >"$WORK/nats.log" 2>&1 &
NATS_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
HTTP_PORT=$(node -e "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })")
export NATS_URL="nats://127.0.0.1:$PORT" PROSA_DB="$WORK/app.db" LOG_LEVEL=warn PROSA_HTTP_PORT="$HTTP_PORT"
"$PROSA" streams apply
"$PROSA" run >"$WORK/run.log" 2>&1 &
RUN_PID=$!
EXPECTED=$(node publish.mjs 2000 25)
"$PROSA" status --wait-caught-up --timeout 60s || { cat "$WORK/run.log"; fail "not caught up"; }
node checkRows.mjs "$PROSA_DB" "$EXPECTED"
node console.mjs "http://127.0.0.1:$HTTP_PORT" || fail "the console of the installed package"
"$PROSA" status
kill -TERM "$RUN_PID"
CODE=0
wait "$RUN_PID" || CODE=$?
RUN_PID=
[ "$CODE" = 0 ] || { cat "$WORK/run.log"; fail "prosa run exited $CODE on SIGTERM"; }
echo "prosa run drained and exited 0 on SIGTERM"
unset PROSA_DB PROSA_HTTP_PORT

step "prosa/testkit and prosa/cim from JavaScript"
node testkit.mjs

step "prosa init: the scaffold's own tests, with prosa from the tarball"
cd "$WORK"
"$PROSA" init scaffold --prosa "file:$TARBALL"
cd scaffold
npm install --no-audit --no-fund --loglevel=error --prefer-offline
npm test
npm run typecheck # the package's .d.ts, as a TypeScript user's tsc reads them
for i in 1 2 3; do /usr/bin/time -f "prosa status (runtime.config.ts): %e s" env -u NATS_URL node_modules/.bin/prosa status >/dev/null; done
# Its start script (prosa run: runtime.config.ts through tsx), on the same server, until SIGTERM.
node_modules/.bin/prosa run >"$WORK/scaffold.log" 2>&1 &
RUN_PID=$!
for _ in $(seq 150); do
  node_modules/.bin/prosa status --json 2>/dev/null | grep -q '"state": "running"' && break
  sleep 0.2
done
node_modules/.bin/prosa status | tee "$WORK/scaffold-status.txt"
grep -q '^people .* running' "$WORK/scaffold-status.txt" || { cat "$WORK/scaffold.log"; fail "the scaffold's projection is not running"; }
kill -TERM "$RUN_PID"
CODE=0
wait "$RUN_PID" || CODE=$?
RUN_PID=
[ "$CODE" = 0 ] || { cat "$WORK/scaffold.log"; fail "the scaffold's prosa run exited $CODE on SIGTERM"; }
echo "the scaffold's prosa run ran its projection and exited 0 on SIGTERM"

step "package check passed"
