#!/usr/bin/env bash
# The lab (README, "The lab"): Prometheus and Alertmanager (rules in server/lab/deploy/), the
# simulated fleet and Sentinel, wired together on loopback, all in $LAB_DIR (default .lab).
#   scripts/lab.sh start   start everything (builds the binary and the site first), print the URLs
#   scripts/lab.sh stop    stop everything `start` started
#   scripts/lab.sh status  what runs
# Ports (override with the variables): Sentinel 8000 (LAB_SENTINEL_PORT), Prometheus 9090
# (LAB_PROM_PORT), Alertmanager 9093 (LAB_AM_PORT), the fleet's control API 9470
# (LAB_CONTROL_PORT) and /metrics 9471+ (LAB_METRICS_PORT).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LAB_DIR=${LAB_DIR:-$ROOT/.lab}
SENTINEL_PORT=${LAB_SENTINEL_PORT:-8000}
PROM_PORT=${LAB_PROM_PORT:-9090}
AM_PORT=${LAB_AM_PORT:-9093}
CONTROL_PORT=${LAB_CONTROL_PORT:-9470}
METRICS_PORT=${LAB_METRICS_PORT:-9471}
BIN=${LAB_BIN:-$ROOT/target/debug/sentinel}
say() { printf '\033[1;34m[lab]\033[0m %s\n' "$*" >&2; }

stop() {
  local any=0
  for f in "$LAB_DIR"/pids/*.pid; do
    [[ -e $f ]] || continue
    local pid; pid=$(cat "$f")
    if kill "$pid" 2>/dev/null; then say "stopped $(basename "$f" .pid) ($pid)"; any=1; fi
    rm -f "$f"
  done
  [[ $any == 1 ]] || say "nothing was running"
}

status() {
  for f in "$LAB_DIR"/pids/*.pid; do
    [[ -e $f ]] || { say "nothing runs"; return; }
    local pid; pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$(basename "$f" .pid) running ($pid)"; else echo "$(basename "$f" .pid) dead"; fi
  done
}

wait_ready() { # name url
  for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "$2"; then return 0; fi
    sleep 0.5
  done
  echo "$1 did not become ready at $2; its log: $LAB_DIR/$1.log" >&2
  tail -20 "$LAB_DIR/$1.log" >&2 || true
  exit 1
}

start() {
  for bin in prometheus prometheus-alertmanager git curl; do
    command -v "$bin" >/dev/null || { echo "$bin is not installed (scripts/setup.sh --test installs it)" >&2; exit 1; }
  done
  if [[ -z "${LAB_BIN:-}" ]]; then
    scripts/setup.sh
    scripts/build-site.sh debug
  fi
  if compgen -G "$LAB_DIR/pids/*.pid" >/dev/null; then stop; fi
  rm -rf "$LAB_DIR"
  mkdir -p "$LAB_DIR/pids" "$LAB_DIR/fleet"
  # The configuration files and fresh secrets (in $LAB_DIR/env, mode 600).
  "$BIN" lab stack-config --dir "$LAB_DIR" --sentinel-port "$SENTINEL_PORT" --prometheus-port "$PROM_PORT" \
    --alertmanager-port "$AM_PORT" --control-port "$CONTROL_PORT" --metrics-base-port "$METRICS_PORT"
  set -a; . "$LAB_DIR/env"; set +a
  local operator=$SENTINEL_OPERATOR_TOKEN
  export SENTINEL_DATA_DIR="$LAB_DIR/sentinel"
  export LEPTOS_SITE_ROOT="$ROOT/target/site"
  mkdir -p "$SENTINEL_DATA_DIR"

  nohup "$BIN" --config "$LAB_DIR/sentinel.toml" serve --addr "127.0.0.1:$SENTINEL_PORT" > "$LAB_DIR/sentinel.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/sentinel.pid"
  wait_ready sentinel "http://127.0.0.1:$SENTINEL_PORT/health"
  nohup "$BIN" --config "$LAB_DIR/sentinel.toml" lab fleet --dir "$LAB_DIR/fleet" \
    --control "127.0.0.1:$CONTROL_PORT" --metrics-base-port "$METRICS_PORT" \
    --sentinel "http://127.0.0.1:$SENTINEL_PORT" --seed "${LAB_SEED:-$RANDOM}" > "$LAB_DIR/fleet.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/fleet.pid"
  wait_ready fleet "http://127.0.0.1:$CONTROL_PORT/health"
  nohup prometheus-alertmanager --config.file="$LAB_DIR/alertmanager.yml" --storage.path="$LAB_DIR/am" \
    --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= > "$LAB_DIR/alertmanager.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/alertmanager.pid"
  wait_ready alertmanager "http://127.0.0.1:$AM_PORT/-/ready"
  nohup prometheus --config.file="$LAB_DIR/prometheus.yml" --storage.tsdb.path="$LAB_DIR/tsdb" \
    --rules.alert.resend-delay=2s --web.listen-address="127.0.0.1:$PROM_PORT" > "$LAB_DIR/prometheus.log" 2>&1 &
  echo $! > "$LAB_DIR/pids/prometheus.pid"
  wait_ready prometheus "http://127.0.0.1:$PROM_PORT/-/ready"
  cat >> "$LAB_DIR/env" <<ENV
LAB_CONTROL=127.0.0.1:$CONTROL_PORT
LAB_SENTINEL=http://127.0.0.1:$SENTINEL_PORT
LAB_PROMETHEUS=http://127.0.0.1:$PROM_PORT
LAB_ALERTMANAGER=http://127.0.0.1:$AM_PORT
ENV
  say "running. Dashboard: http://127.0.0.1:$SENTINEL_PORT/  (log in: http://127.0.0.1:$SENTINEL_PORT/login?token=$operator)"
  say "Prometheus http://127.0.0.1:$PROM_PORT, Alertmanager http://127.0.0.1:$AM_PORT, fleet control http://127.0.0.1:$CONTROL_PORT"
  say "inject a fault: $BIN lab inject bad_deploy --control 127.0.0.1:$CONTROL_PORT   (list: $BIN lab faults)"
  say "stop everything: make lab-stop"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: scripts/lab.sh start|stop|status" >&2; exit 2 ;;
esac
