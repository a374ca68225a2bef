#!/usr/bin/env bash
# Weft local services without Docker: ClickHouse (Debian package) and Apache Kafka in
# KRaft mode (jars from Maven Central), both on loopback, both started as plain background
# processes (no systemd needed). See docker/README.md.
#
#   docker/services.sh up [clickhouse|kafka]...    install what is missing, start, wait healthy
#   docker/services.sh down [clickhouse|kafka]...  stop what this script started
#   docker/services.sh status                      exit 0 if both are up, 3 otherwise
#   docker/services.sh env                         print `export KAFKA_BROKERS=... CLICKHOUSE_URL=...`
#   docker/services.sh logs                        print where the logs are
#   docker/services.sh clean                       down + delete data (keeps downloaded jars)
#   docker/services.sh fetch                       only download the Kafka jars
#   docker/services.sh kafka-topics ...            Kafka CLI tools (java -cp the fetched jars);
#                      kafka-console-producer ...  --bootstrap-server is added when missing
#                      kafka-console-consumer ...
#                      kafka-consumer-groups ...
#                      kafka-producer-perf-test ...
#                      kafka-consumer-perf-test ...
#                      kafka-metadata-quorum ...
#                      kafka-run-class CLASS ...
#   docker/services.sh clickhouse-client ...       clickhouse-client against our server
#
# Environment (all optional):
#   WEFT_SERVICES_DIR       state directory (data, logs, pid files, jars)  [/var/tmp/weft-services]
#   CLICKHOUSE_HTTP_PORT    ClickHouse HTTP port on 127.0.0.1              [8123]
#   CLICKHOUSE_TCP_PORT     ClickHouse native port on 127.0.0.1            [9000]
#   CLICKHOUSE_LOG_LEVEL    ClickHouse server log level                     [warning]
#   KAFKA_PORT              Kafka PLAINTEXT listener on 127.0.0.1           [9092]
#   KAFKA_CONTROLLER_PORT   KRaft controller listener on 127.0.0.1         [9093]
#   KAFKA_HEAP_OPTS         broker JVM heap                                 [-Xms256m -Xmx512m]
#   WEFT_SERVICES_TIMEOUT   seconds to wait for each service to get healthy [120]
#   KAFKA_JARS_DIR          where the fetched Kafka jars are kept (share it between state dirs) [$WEFT_SERVICES_DIR/kafka]
set -euo pipefail

HOST=127.0.0.1
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${WEFT_SERVICES_DIR:-/var/tmp/weft-services}"
CH_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-8123}"
CH_TCP_PORT="${CLICKHOUSE_TCP_PORT:-9000}"
CH_LOG_LEVEL="${CLICKHOUSE_LOG_LEVEL:-warning}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
TIMEOUT="${WEFT_SERVICES_TIMEOUT:-120}"

CH_DIR="$STATE_DIR/clickhouse"
CH_PID="$CH_DIR/clickhouse-server.pid"
CH_LOG="$CH_DIR/log/clickhouse-server.log"
CH_ERRLOG="$CH_DIR/log/clickhouse-server.err.log"
CH_STDOUT="$CH_DIR/log/stdout.log"

KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_POM="$SCRIPT_DIR/kafka/pom.xml"
KAFKA_PID="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$KAFKA_DIR/logs/server.log"
KAFKA_STDOUT="$KAFKA_DIR/logs/stdout.log"

CH_URL="http://$HOST:$CH_HTTP_PORT"
KAFKA_BOOTSTRAP="$HOST:$KAFKA_PORT"

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------- helpers

# Serialise up/down/clean/fetch between concurrent callers (e.g. parallel test workers).
# fd 9 is closed in every daemon we start, so the lock never outlives this script.
take_lock() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  if ! flock -w 900 9; then
    die "another services.sh has held $STATE_DIR/.lock for 15 minutes; giving up"
  fi
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# pid_alive PIDFILE NEEDLE: the pid in PIDFILE is alive and its command line contains NEEDLE
# (guards against a stale pid file whose pid was reused by another process).
pid_alive() {
  local pid
  [[ -s "$1" ]] || return 1
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$2"
}

pid_of() { cat "$1"; }

# proc_alive PIDFILE: the process we just launched still exists. Used while waiting for a
# start, when its command line may not show the server yet (the launcher has not exec'd).
proc_alive() {
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

show_log_tail() {
  local f
  for f in "$@"; do
    if [[ -s "$f" ]]; then
      printf '[services] ---- last lines of %s ----\n' "$f" >&2
      tail -n 25 "$f" >&2 || true
    fi
  done
}

# stop_pid PIDFILE NEEDLE NAME: TERM, wait up to 60 s, then KILL.
stop_pid() {
  local pidfile="$1" needle="$2" name="$3" pid i
  if ! pid_alive "$pidfile" "$needle"; then
    rm -f "$pidfile"
    log "$name: not running"
    return 0
  fi
  pid="$(pid_of "$pidfile")"
  log "$name: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 600; i++)); do
    pid_alive "$pidfile" "$needle" || break
    sleep 0.1
  done
  if pid_alive "$pidfile" "$needle"; then
    log "$name: still running after 60 s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pid_alive "$pidfile" "$needle" || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
  log "$name: stopped"
}

as_root_or_die() {
  [[ "$(id -u)" == 0 ]] || die "need to install $* with apt-get, which needs root: run 'sudo apt-get install -y $*' once, then retry"
}

APT_UPDATED=0
APT_LOG="$STATE_DIR/apt.log"

apt_run() {
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@" \
    >>"$APT_LOG" 2>&1 </dev/null 9>&- || rc=$?
  return $rc
}

apt_install() {
  as_root_or_die "$@"
  mkdir -p "$STATE_DIR"
  local missing=0 p
  for p in "$@"; do
    apt-cache show "$p" >/dev/null 2>&1 || missing=1
  done
  if [[ $missing == 1 && $APT_UPDATED == 0 ]]; then
    log "apt-get update (log $APT_LOG)"
    apt_run update || { show_log_tail "$APT_LOG"; die "apt-get update failed; see $APT_LOG"; }
    APT_UPDATED=1
  fi
  log "apt-get install $* (log $APT_LOG)"
  # policy-rc.d (if any) and the lack of an init system keep the package's own service
  # from starting; we start the server ourselves with our own config.
  if ! apt_run install --no-install-recommends "$@"; then
    if [[ $APT_UPDATED == 0 ]]; then
      log "install failed; retrying after apt-get update"
      apt_run update || { show_log_tail "$APT_LOG"; die "apt-get update failed; see $APT_LOG"; }
      APT_UPDATED=1
      apt_run install --no-install-recommends "$@" ||
        { show_log_tail "$APT_LOG"; die "apt-get install $* failed; see $APT_LOG"; }
    else
      show_log_tail "$APT_LOG"
      die "apt-get install $* failed; see $APT_LOG"
    fi
  fi
}

# ------------------------------------------------------------------------- clickhouse

ch_bin() {
  command -v clickhouse-server 2>/dev/null || { [[ -x /usr/sbin/clickhouse-server ]] && echo /usr/sbin/clickhouse-server; } || true
}

ch_install() {
  local need=()
  [[ -n "$(ch_bin)" ]] || need+=(clickhouse-server)
  command -v clickhouse-client >/dev/null 2>&1 || need+=(clickhouse-client)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  if ((${#need[@]})); then apt_install "${need[@]}"; fi
  [[ -n "$(ch_bin)" ]] || die "clickhouse-server binary not found after installing the package"
}

ch_ping() { [[ "$(curl -s -m 2 "$CH_URL/ping" 2>/dev/null)" == "Ok." ]]; }

ch_running_ours() { pid_alive "$CH_PID" "$CH_DIR/config.xml"; }

ch_write_config() {
  mkdir -p "$CH_DIR"/{data,tmp,user_files,format_schemas,log}
  cat >"$CH_DIR/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Generated by docker/services.sh; rewritten at every start. -->
<yandex>
    <logger>
        <level>$CH_LOG_LEVEL</level>
        <log>$CH_LOG</log>
        <errorlog>$CH_ERRLOG</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>$HOST</listen_host>
    <http_port>$CH_HTTP_PORT</http_port>
    <tcp_port>$CH_TCP_PORT</tcp_port>
    <max_connections>1024</max_connections>
    <!-- Longer than common HTTP clients' idle keep-alive (Node/undici: 4 s), so the server
         never closes a pooled connection that a client is about to reuse. -->
    <keep_alive_timeout>10</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$CH_DIR/data/</path>
    <tmp_path>$CH_DIR/tmp/</tmp_path>
    <user_files_path>$CH_DIR/user_files/</user_files_path>
    <format_schema_path>$CH_DIR/format_schemas/</format_schema_path>
    <users_config>$CH_DIR/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <umask>022</umask>
    <mlock_executable>false</mlock_executable>
    <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
</yandex>
EOF
  cat >"$CH_DIR/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Generated by docker/services.sh: user "default", no password, loopback only. -->
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <use_uncompressed_cache>0</use_uncompressed_cache>
            <load_balancing>random</load_balancing>
        </default>
        <readonly>
            <readonly>1</readonly>
        </readonly>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks>
                <ip>::1</ip>
                <ip>127.0.0.1</ip>
            </networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
EOF
}

ch_up() {
  if ch_running_ours && ch_ping; then
    log "clickhouse: already running (pid $(pid_of "$CH_PID"))"
    return 0
  fi
  if ! ch_running_ours && port_open "$CH_HTTP_PORT"; then
    if ch_ping; then
      log "clickhouse: a server not started by this script already answers on $CH_URL; using it"
      return 0
    fi
    die "clickhouse: port $HOST:$CH_HTTP_PORT is taken by another process (not ClickHouse?); free it or set CLICKHOUSE_HTTP_PORT"
  fi
  ch_install
  if ! ch_running_ours; then
    if port_open "$CH_TCP_PORT"; then
      die "clickhouse: native port $HOST:$CH_TCP_PORT is taken by another process; free it or set CLICKHOUSE_TCP_PORT"
    fi
    ch_write_config
    log "clickhouse: starting ($(ch_bin), config $CH_DIR/config.xml)"
    : >"$CH_STDOUT"
    (cd "$CH_DIR" && exec setsid nohup "$(ch_bin)" --config-file="$CH_DIR/config.xml" \
      >>"$CH_STDOUT" 2>&1 </dev/null 9>&-) &
    echo $! >"$CH_PID"
  fi
  local deadline=$((SECONDS + TIMEOUT))
  until ch_ping; do
    if ! proc_alive "$CH_PID"; then
      show_log_tail "$CH_STDOUT" "$CH_ERRLOG"
      die "clickhouse: server exited during startup; logs: $CH_ERRLOG, $CH_STDOUT"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$CH_STDOUT" "$CH_ERRLOG"
      die "clickhouse: no 'Ok.' from $CH_URL/ping after ${TIMEOUT}s (pid $(pid_of "$CH_PID") still running); logs: $CH_ERRLOG, $CH_LOG"
    fi
    sleep 0.2
  done
  local v
  v="$(curl -sS -m 10 "$CH_URL/" --data-binary 'SELECT version()' 2>&1)" || true
  [[ "$v" =~ ^[0-9]+\.[0-9] ]] ||
    die "clickhouse: /ping answers but 'SELECT version()' failed: ${v:0:300} (log: $CH_ERRLOG)"
  log "clickhouse: up, version $v (pid $(pid_of "$CH_PID"))"
}

ch_down() { stop_pid "$CH_PID" "$CH_DIR/config.xml" clickhouse; }

# ------------------------------------------------------------------------------ kafka

java_major() {
  local v
  v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\)\(\.[0-9]*\)*.*".*/\1/p' | head -n1)"
  # Java 8 and older report "1.x".
  [[ "$v" == 1 ]] && v=8
  echo "${v:-0}"
}

kafka_install_java() {
  if ! command -v java >/dev/null 2>&1 || (($(java_major) < 17)); then
    apt_install openjdk-17-jre-headless
  fi
  (($(java_major) >= 17)) || die "Kafka 4 needs Java 17 or newer; 'java -version' says $(java -version 2>&1 | head -n1)"
}

kafka_libs_dir() {
  local hash
  hash="$(sha256sum "$KAFKA_POM" | cut -c1-12)"
  echo "${KAFKA_JARS_DIR:-$KAFKA_DIR}/libs-$hash"
}

# Download the broker + tools jars once (cache key: hash of docker/kafka/pom.xml).
kafka_fetch() {
  local libs
  libs="$(kafka_libs_dir)"
  [[ -f "$libs/.complete" ]] && return 0
  [[ -f "$KAFKA_POM" ]] || die "kafka: $KAFKA_POM is missing"
  kafka_install_java
  command -v mvn >/dev/null 2>&1 || apt_install maven
  mkdir -p "$KAFKA_DIR/logs" "$KAFKA_DIR/mvn"
  # Run Maven on a copy of the pom so that nothing is written into the repository.
  cp "$KAFKA_POM" "$KAFKA_DIR/mvn/pom.xml"
  rm -rf "$libs.tmp"
  log "kafka: fetching jars from Maven Central (mvn dependency:copy-dependencies; log $KAFKA_DIR/logs/mvn.log)"
  if ! (cd "$KAFKA_DIR/mvn" && mvn -B -q -Dstyle.color=never dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs.tmp" >"$KAFKA_DIR/logs/mvn.log" 2>&1 9>&-); then
    show_log_tail "$KAFKA_DIR/logs/mvn.log"
    die "kafka: Maven could not fetch the jars; see $KAFKA_DIR/logs/mvn.log"
  fi
  ls "$libs.tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka: no kafka_2.13 jar after mvn; see $KAFKA_DIR/logs/mvn.log"
  touch "$libs.tmp/.complete"
  rm -rf "$libs"
  mv "$libs.tmp" "$libs"
  # Drop jars of older pom versions.
  find "${KAFKA_JARS_DIR:-$KAFKA_DIR}" -maxdepth 1 -type d -name 'libs-*' ! -path "$libs" -exec rm -rf {} + 2>/dev/null || true
  local jars=("$libs"/*.jar)
  log "kafka: ${#jars[@]} jars in $libs"
}

kafka_running_ours() { pid_alive "$KAFKA_PID" "$KAFKA_DIR/server.properties"; }

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Generated by docker/services.sh; rewritten at every start.
# Single node: broker + KRaft controller in one process, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DIR/data

# Test-friendly settings (mirrored in docker/docker-compose.yml).
auto.create.topics.enable=true
num.partitions=4
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=104857600
EOF
  cat >"$KAFKA_DIR/log4j2.properties" <<EOF
# Broker logging (Log4j 2), generated by docker/services.sh.
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $KAFKA_LOG
appender.file.filePattern = $KAFKA_LOG.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.controller.name = org.apache.kafka.controller
logger.controller.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = WARN
EOF
  cat >"$KAFKA_DIR/tools-log4j2.properties" <<'EOF'
# CLI tools: warnings and errors to stderr only.
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = STDERR
EOF
}

kafka_format() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
  local libs id
  libs="$(kafka_libs_dir)"
  if [[ ! -s "$KAFKA_DIR/cluster.id" ]]; then
    # A Kafka Uuid: 16 random bytes, URL-safe base64 without padding.
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$KAFKA_DIR/cluster.id"
  fi
  id="$(cat "$KAFKA_DIR/cluster.id")"
  log "kafka: formatting storage $KAFKA_DIR/data (cluster id $id)"
  if ! java -Xmx256m -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" -cp "$libs/*" \
    kafka.tools.StorageTool format -t "$id" -c "$KAFKA_DIR/server.properties" --ignore-formatted \
    >"$KAFKA_DIR/logs/format.log" 2>&1 9>&-; then
    show_log_tail "$KAFKA_DIR/logs/format.log"
    die "kafka: formatting the storage failed; see $KAFKA_DIR/logs/format.log"
  fi
}

# Run a Kafka CLI class with the fetched jars.
kafka_java_tool() {
  local libs cls="$1"
  shift
  libs="$(kafka_libs_dir)"
  exec java -Xmx512m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" -cp "$libs/*" "$cls" "$@" 9>&-
}

# Ask the broker for its topic list (a real metadata round trip).
kafka_probe() {
  local libs
  libs="$(kafka_libs_dir)"
  timeout 60 java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" -cp "$libs/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" --list \
    >"$KAFKA_DIR/logs/probe.log" 2>&1 9>&-
}

kafka_up() {
  if kafka_running_ours && port_open "$KAFKA_PORT"; then
    log "kafka: already running (pid $(pid_of "$KAFKA_PID"))"
    return 0
  fi
  if ! kafka_running_ours && port_open "$KAFKA_PORT"; then
    kafka_fetch
    mkdir -p "$KAFKA_DIR/logs"
    [[ -f "$KAFKA_DIR/tools-log4j2.properties" ]] || kafka_write_config
    if kafka_probe; then
      log "kafka: a broker not started by this script already answers on $KAFKA_BOOTSTRAP; using it"
      return 0
    fi
    die "kafka: port $KAFKA_BOOTSTRAP is taken by another process that does not answer as a Kafka broker; free it or set KAFKA_PORT"
  fi
  kafka_fetch
  local libs
  libs="$(kafka_libs_dir)"
  if ! kafka_running_ours; then
    if port_open "$KAFKA_CONTROLLER_PORT"; then
      die "kafka: controller port $HOST:$KAFKA_CONTROLLER_PORT is taken by another process; free it or set KAFKA_CONTROLLER_PORT"
    fi
    kafka_write_config
    kafka_format
    log "kafka: starting (KRaft broker+controller, config $KAFKA_DIR/server.properties)"
    : >"$KAFKA_STDOUT"
    # shellcheck disable=SC2086  # KAFKA_HEAP holds several options
    (cd "$KAFKA_DIR" && exec setsid nohup java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" -Dkafka.logs.dir="$KAFKA_DIR/logs" \
      -cp "$libs/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
      >>"$KAFKA_STDOUT" 2>&1 </dev/null 9>&-) &
    echo $! >"$KAFKA_PID"
  fi
  local deadline=$((SECONDS + TIMEOUT))
  until port_open "$KAFKA_PORT"; do
    if ! proc_alive "$KAFKA_PID"; then
      show_log_tail "$KAFKA_STDOUT" "$KAFKA_LOG"
      die "kafka: broker exited during startup; logs: $KAFKA_LOG, $KAFKA_STDOUT"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$KAFKA_LOG"
      die "kafka: nothing listens on $KAFKA_BOOTSTRAP after ${TIMEOUT}s (pid $(pid_of "$KAFKA_PID") still running); log: $KAFKA_LOG"
    fi
    sleep 0.2
  done
  until kafka_probe; do
    if ! proc_alive "$KAFKA_PID"; then
      show_log_tail "$KAFKA_STDOUT" "$KAFKA_LOG"
      die "kafka: broker exited during startup; logs: $KAFKA_LOG, $KAFKA_STDOUT"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$KAFKA_DIR/logs/probe.log" "$KAFKA_LOG"
      die "kafka: port $KAFKA_BOOTSTRAP is open but listing topics fails after ${TIMEOUT}s; logs: $KAFKA_LOG, $KAFKA_DIR/logs/probe.log"
    fi
    sleep 1
  done
  local main=("$libs"/kafka_2.13-*.jar)
  log "kafka: up, $(basename "${main[0]}" .jar) (pid $(pid_of "$KAFKA_PID"))"
}

kafka_down() { stop_pid "$KAFKA_PID" "$KAFKA_DIR/server.properties" kafka; }

# ------------------------------------------------------------------------- commands

print_endpoints() {
  echo "KAFKA_BROKERS=$KAFKA_BOOTSTRAP"
  echo "CLICKHOUSE_URL=$CH_URL"
  echo "CLICKHOUSE_NATIVE=$HOST:$CH_TCP_PORT"
}

# Which services a command applies to: none named = both.
want() {
  local s
  (($# == 1)) && return 0
  for s in "${@:2}"; do [[ "$s" == "$1" ]] && return 0; done
  return 1
}

check_services() {
  local s
  for s in "$@"; do
    [[ "$s" == clickhouse || "$s" == kafka ]] || die "unknown service '$s' (expected clickhouse or kafka)"
  done
}

cmd_up() {
  check_services "$@"
  take_lock
  want clickhouse "$@" && ch_up
  want kafka "$@" && kafka_up
  print_endpoints
}

cmd_down() {
  check_services "$@"
  take_lock
  want kafka "$@" && kafka_down
  want clickhouse "$@" && ch_down
  return 0
}

cmd_status() {
  local rc=0
  if ch_running_ours && ch_ping; then
    echo "clickhouse: running (pid $(pid_of "$CH_PID"), http $CH_URL, native $HOST:$CH_TCP_PORT)"
  elif ch_ping; then
    echo "clickhouse: running (not started by services.sh), http $CH_URL"
  elif ch_running_ours; then
    echo "clickhouse: starting or unhealthy (pid $(pid_of "$CH_PID"), no answer from $CH_URL/ping; log $CH_ERRLOG)"
    rc=3
  else
    echo "clickhouse: not running"
    rc=3
  fi
  if kafka_running_ours && port_open "$KAFKA_PORT"; then
    echo "kafka: running (pid $(pid_of "$KAFKA_PID"), bootstrap $KAFKA_BOOTSTRAP)"
  elif port_open "$KAFKA_PORT"; then
    echo "kafka: something not started by services.sh listens on $KAFKA_BOOTSTRAP"
  elif kafka_running_ours; then
    echo "kafka: starting or unhealthy (pid $(pid_of "$KAFKA_PID"), $KAFKA_BOOTSTRAP closed; log $KAFKA_LOG)"
    rc=3
  else
    echo "kafka: not running"
    rc=3
  fi
  return $rc
}

cmd_logs() {
  echo "clickhouse: $CH_LOG $CH_ERRLOG $CH_STDOUT"
  echo "kafka:      $KAFKA_LOG $KAFKA_STDOUT $KAFKA_DIR/logs/format.log $KAFKA_DIR/logs/mvn.log"
}

cmd_clean() {
  take_lock
  kafka_down
  ch_down
  log "deleting data under $STATE_DIR (the Kafka jars are kept)"
  rm -rf "$CH_DIR" "$KAFKA_DIR/data" "$KAFKA_DIR/cluster.id"
}

# Kafka tools: add --bootstrap-server when the caller did not give one.
kafka_tool_with_bootstrap() {
  local cls="$1" a
  shift
  for a in "$@"; do
    [[ "$a" == --bootstrap-server || "$a" == --bootstrap-server=* ]] && kafka_java_tool "$cls" "$@"
  done
  kafka_java_tool "$cls" --bootstrap-server "$KAFKA_BOOTSTRAP" "$@"
}

ensure_tools() {
  if [[ ! -f "$(kafka_libs_dir)/.complete" ]]; then
    take_lock
    kafka_fetch
    exec 9>&-
  fi
  [[ -f "$KAFKA_DIR/tools-log4j2.properties" ]] || { mkdir -p "$KAFKA_DIR" && kafka_write_config; }
}

usage() {
  sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd="${1:-}"
  (($#)) && shift
  case "$cmd" in
    up) cmd_up "$@" ;;
    down | stop) cmd_down "$@" ;;
    status) cmd_status ;;
    env) print_endpoints | sed 's/^/export /' ;;
    endpoints) print_endpoints ;;
    logs) cmd_logs ;;
    clean) cmd_clean ;;
    fetch) take_lock && kafka_fetch ;;
    kafka-topics) ensure_tools && kafka_tool_with_bootstrap org.apache.kafka.tools.TopicCommand "$@" ;;
    kafka-console-producer) ensure_tools && kafka_tool_with_bootstrap org.apache.kafka.tools.ConsoleProducer "$@" ;;
    kafka-console-consumer) ensure_tools && kafka_tool_with_bootstrap org.apache.kafka.tools.consumer.ConsoleConsumer "$@" ;;
    kafka-consumer-groups) ensure_tools && kafka_tool_with_bootstrap org.apache.kafka.tools.consumer.group.ConsumerGroupCommand "$@" ;;
    kafka-metadata-quorum) ensure_tools && kafka_tool_with_bootstrap org.apache.kafka.tools.MetadataQuorumCommand "$@" ;;
    kafka-producer-perf-test) ensure_tools && kafka_java_tool org.apache.kafka.tools.ProducerPerformance "$@" ;;
    kafka-consumer-perf-test) ensure_tools && kafka_java_tool org.apache.kafka.tools.ConsumerPerformance "$@" ;;
    kafka-run-class) ensure_tools && kafka_java_tool "$@" ;;
    clickhouse-client)
      command -v clickhouse-client >/dev/null 2>&1 || apt_install clickhouse-client
      exec clickhouse-client --host "$HOST" --port "$CH_TCP_PORT" "$@"
      ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"
