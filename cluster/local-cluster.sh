#!/usr/bin/env bash
# A multi-process cluster on this machine: redis-server on a port of its own (installed with apt when
# missing) and N silo processes clustered through it, each with its own ports and log.
#
#   cluster/local-cluster.sh up 3      # start redis and 3 silos; prints the --cluster string for the CLI
#   cluster/local-cluster.sh status    # what runs, on which ports; the cluster's jobs
#   cluster/local-cluster.sh down      # stops exactly what `up` started
#
# State (pids, ports, logs, Redis data) lives in $ROLLOUT_CLUSTER_DIR (default runs/local-cluster);
# jobs write under $ROLLOUT_RUNS (default runs/), shared by every silo. $ROLLOUT_CLI overrides how the
# CLI is run (default: ./rollout, which builds it when stale). $ROLLOUT_DEVICES sets the silos' --devices
# (default auto); $ROLLOUT_LEARNER_SILOS=K starts the first K silos with --devices none: no generators,
# and the cluster places learners there (a learner's weights, gradients and optimizer state alone).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${ROLLOUT_CLUSTER_DIR:-$root/runs/local-cluster}"
runs="${ROLLOUT_RUNS:-$root/runs}"
read -r -a cli <<< "${ROLLOUT_CLI:-$root/rollout}"

die() { echo "local-cluster: $*" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

ensure_redis() {
  command -v redis-server >/dev/null && return
  echo "local-cluster: installing redis-server" >&2
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  # The package starts a system-wide instance on 6379; ours runs on a port of its own and needs none.
  $sudo systemctl disable --now redis-server >/dev/null 2>&1 || true
}

wait_for() {   # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds="$1" what="$2"; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  die "$what did not come up within ${seconds}s"
}

up() {
  local n="${1:-}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "usage: local-cluster.sh up N (N silos, N >= 1), found \"${1:-}\""
  if ls "$state"/*.pid >/dev/null 2>&1; then
    for p in "$state"/*.pid; do alive "$p" && die "a cluster is already running from $state (local-cluster.sh down first)"; done
  fi
  ensure_redis
  mkdir -p "$state" "$runs"
  rm -f "$state"/*.pid "$state"/*.ports
  local redis_port; redis_port="$(free_port)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$state" --appendonly yes --save "" --daemonize no \
    --logfile "$state/redis.log" >/dev/null 2>&1 &
  echo $! > "$state/redis.pid"
  echo "$redis_port" > "$state/redis.ports"
  wait_for 15 "redis-server on 127.0.0.1:$redis_port" redis-cli -p "$redis_port" ping
  local connection="127.0.0.1:$redis_port"
  echo "$connection" > "$state/connection"
  # N silos share this machine's cores: idle thread-pool threads must not spin-wait for work (with 4
  # silos on 2 cores, spinning cost the weight broadcast ~10%: benchmarks/README.md).
  export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit="${DOTNET_ThreadPool_UnfairSemaphoreSpinLimit:-0}"
  for i in $(seq 1 "$n"); do
    local silo gateway dashboard devices="${ROLLOUT_DEVICES:-auto}"
    [ "$i" -le "${ROLLOUT_LEARNER_SILOS:-0}" ] && devices=none
    silo="$(free_port)"; gateway="$(free_port)"; dashboard="$(free_port)"
    [ "$i" -eq 1 ] && ! (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null && dashboard=8080
    (cd "$root" && exec "${cli[@]}" silo --redis "$connection" --silo-port "$silo" --gateway-port "$gateway" \
      --dashboard-port "$dashboard" --runs-directory "$runs" --devices "$devices") > "$state/silo-$i.log" 2>&1 &
    echo $! > "$state/silo-$i.pid"
    echo "$silo $gateway $dashboard" > "$state/silo-$i.ports"
  done
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 600); do
      grep -q "silo up" "$state/silo-$i.log" && break
      alive "$state/silo-$i.pid" || { tail -5 "$state/silo-$i.log" >&2; down >/dev/null; die "silo $i exited (log $state/silo-$i.log)"; }
      sleep 0.2
    done
    grep -q "silo up" "$state/silo-$i.log" || { down >/dev/null; die "silo $i did not come up within 120 s (log $state/silo-$i.log)"; }
  done
  status
  echo "cluster up: ./rollout submit JOB --cluster $connection"
}

status() {
  [ -f "$state/connection" ] || { echo "no local cluster (nothing in $state)"; return 0; }
  local connection; connection="$(cat "$state/connection")"
  if alive "$state/redis.pid"; then echo "redis   pid $(cat "$state/redis.pid")  $connection"
  else echo "redis   stopped ($connection)"; fi
  for p in "$state"/silo-*.pid; do
    [ -f "$p" ] || continue
    local name ports; name="$(basename "$p" .pid)"; read -r -a ports < "$state/$name.ports"
    if alive "$p"; then
      echo "$name  pid $(cat "$p")  silo 127.0.0.1:${ports[0]}  gateway ${ports[1]}  dashboard http://127.0.0.1:${ports[2]}/  log $state/$name.log"
    else echo "$name  stopped  (log $state/$name.log)"; fi
  done
  if alive "$state/redis.pid"; then (cd "$root" && "${cli[@]}" list --cluster "$connection") || true; fi
}

stop_pid() {   # SIGTERM, then SIGKILL after 15 s
  local file="$1"
  if alive "$file"; then
    local pid; pid="$(cat "$file")"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  [ -d "$state" ] || { echo "no local cluster (nothing in $state)"; return 0; }
  for p in "$state"/silo-*.pid; do [ -f "$p" ] && stop_pid "$p"; done
  [ -f "$state/redis.pid" ] && stop_pid "$state/redis.pid"
  rm -f "$state"/*.ports "$state/connection"
  echo "local cluster stopped"
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down ;;
  status) status ;;
  *) die "usage: local-cluster.sh up N | down | status" ;;
esac
