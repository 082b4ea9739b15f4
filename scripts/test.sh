#!/usr/bin/env bash
# The README's test command (`make test`): start the real services, run every
# test with the race detector against them, stop what this script started.
# Extra arguments go to `go test` (e.g. -run, -coverprofile).
set -euo pipefail
cd "$(dirname "$0")/.."

own=1
scripts/services.sh running && own=0 # started by `make services`: leave them running
go_test=
cleanup() {
  if [ -n "$go_test" ]; then kill "$go_test" 2>/dev/null || true; fi
  if [ $own = 1 ]; then scripts/services.sh stop; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
scripts/services.sh start
set -a
eval "$(scripts/services.sh env)"
set +a
export IDEMQ_REQUIRE_SERVICES=1
echo "test: services up in $(($(date +%s) - t0)) s; running go test ${IDEMQ_RACE--race} -count=1 ./... $*"

# -v so the output names every top-level test that ran, passed or was skipped;
# the full log (with subtests) is kept in .run/test.log.
log=${IDEMQ_RUN_DIR:-.run}/test.log
status=0
go test ${IDEMQ_RACE--race} -count=1 -v "$@" ./... >"$log" 2>&1 &
go_test=$!
tail -n +1 -f --pid=$go_test "$log" | grep --line-buffered -E '^(--- |ok |FAIL|panic|PASS$|Benchmark|\?|WARNING: DATA RACE)|^ +--- (FAIL|SKIP)' || true
wait $go_test || status=$?
# Each fuzz target runs briefly too (its seed corpus already ran above). The budget is a count of
# executions, not a duration: with a duration, Go 1.26's fuzz coordinator can report a bare
# "context deadline exceeded" when -fuzztime expires on a loaded machine (golang/go#75804).
fuzztime=${IDEMQ_FUZZTIME:-30000x}
if [ $status = 0 ] && [ "$fuzztime" != 0 ] && [ -z "$*" ]; then
  # Every fuzz target of the repo, found in the sources: "dir:FuzzName" per line.
  targets=$(grep -rE --include='*_test.go' --exclude-dir=.run --exclude-dir=.git -o '^func Fuzz[A-Za-z0-9_]*' . |
    sed -E 's|^\./(.*)/[^/]*:func (Fuzz.*)$|\1:\2|' | sort)
  for target in $targets; do
    pkg=./${target%%:*} name=${target#*:}
    echo "test: fuzzing $name ($pkg) for $fuzztime"
    if ! go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" >"$log.fuzz" 2>&1; then
      status=1
      echo "test: $name FAILED:" >&2
      tail -n 8 "$log.fuzz" >&2
    fi
    cat "$log.fuzz" >>"$log"
  done
  rm -f "$log.fuzz"
fi
if [ $status != 0 ]; then
  echo "test: FAILED (exit $status). Failure messages:" >&2
  grep -E '^\s+[A-Za-z0-9_]+\.go:[0-9]+: |^panic:|goroutines leaked' "$log" | head -100 >&2 || true
  if grep -q '^panic: test timed out' "$log"; then
    # A hung test: name it, and show where this module's goroutines were blocked.
    echo "test: still running at the timeout:" >&2
    grep -A 20 '^panic: test timed out' "$log" | grep -E '^\s+(running tests:|Test)' >&2 || true
    echo "test: frames of this module in the goroutine dump (count, frame):" >&2
    grep -E '^github.com/idemq/idemq/' "$log" | sed -E 's/\(0x[0-9a-f, .]*\)$//; s/\(\.\.\.\)$//' |
      sort | uniq -c | sort -rn | head -60 >&2 || true
  fi
  echo "test: full log: $log; service logs: $IDEMQ_KAFKA_LOG and ${IDEMQ_RUN_DIR:-.run}/*/redis.log" >&2
fi
echo "test: total $(($(date +%s) - t0)) s"
exit $status
