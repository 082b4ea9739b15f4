#!/usr/bin/env bash
# The README's test command (`make test`): start the real services, run every
# test with the race detector against them, stop what this script started.
# Extra arguments go to `go test` (e.g. -run, -coverprofile).
set -euo pipefail
cd "$(dirname "$0")/.."

own=1
scripts/services.sh running && own=0 # started by `make services`: leave them running
if [ $own = 1 ]; then
  trap 'scripts/services.sh stop' EXIT
  trap 'exit 130' INT TERM
fi

t0=$(date +%s)
scripts/services.sh start
set -a
eval "$(scripts/services.sh env)"
set +a
export IDEMQ_REQUIRE_SERVICES=1
echo "test: services up in $(($(date +%s) - t0)) s; running go test ${IDEMQ_RACE--race} -count=1 ./... $*"

status=0
go test ${IDEMQ_RACE--race} -count=1 "$@" ./... || status=$?
if [ $status != 0 ]; then
  echo "test: FAILED (exit $status). Service logs: $IDEMQ_KAFKA_LOG and ${IDEMQ_RUN_DIR:-.run}/*/redis.log" >&2
fi
echo "test: total $(($(date +%s) - t0)) s"
exit $status
