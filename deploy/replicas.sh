#!/usr/bin/env bash
# Three dlviz replicas on loopback ports with Debian's nginx in front (cookie affinity, websocket upgrade): the
# deployment of deploy/nginx.conf, tried on one machine without containers.
#
#   deploy/replicas.sh start [N]     start N replicas (default 3) and nginx; prints the URL and a state directory
#   deploy/replicas.sh stop          stop what `start` started (by the pids it wrote, nothing else)
#
# Ports: nginx on a free port, the replicas on the following ones (override: DLVIZ_LB_PORT). All replicas append
# to one timing log ($STATE/timing.jsonl, DLVIZ_TIMING_LOG) whose lines carry their pid, so
#   python bench/soak.py --url $(cat $STATE/url) --timing-log $STATE/timing.jsonl $(cat $STATE/pid-args) --json
# measures through the load balancer and reports how many sessions each replica served.
# Needs nginx (`apt-get install -y --no-install-recommends nginx`); runs as the current user, no root needed.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE="${DLVIZ_REPLICAS_STATE:-/tmp/dlviz-replicas}"
PY="${PYTHON:-.venv/bin/python}"

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

start() {
  local n="${1:-3}"
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx is not installed" >&2; exit 2; }
  [ -e "$STATE/nginx.pid" ] && { echo "already running (state in $STATE); run: $0 stop" >&2; exit 1; }
  mkdir -p "$STATE/tmp"
  : > "$STATE/timing.jsonl"
  local lb="${DLVIZ_LB_PORT:-$(free_port)}" servers="" pids="" ports=()
  for i in $(seq 1 "$n"); do
    local port; port=$(free_port)
    DLVIZ_TIMING_LOG="$STATE/timing.jsonl" TF_ENABLE_ONEDNN_OPTS=0 TF_CPP_MIN_LOG_LEVEL=2 MALLOC_ARENA_MAX=2 \
      STREAMLIT_SERVER_COOKIE_SECRET="${STREAMLIT_SERVER_COOKIE_SECRET:-dlviz-loopback-$lb}" \
      setsid "$PY" -m streamlit run app.py --server.port "$port" --server.address 127.0.0.1 \
        --server.headless true --server.fileWatcherType none --server.runOnSave false \
        --browser.gatherUsageStats false > "$STATE/replica-$i.log" 2>&1 &
    echo $! > "$STATE/replica-$i.pid"
    ports+=("$port")
    servers+="        server 127.0.0.1:$port max_fails=3 fail_timeout=10s;"$'\n'
    pids+="--pid $! "
    echo "replica $i: http://127.0.0.1:$port (pid $!)"
  done
  echo "$pids" > "$STATE/pid-args"
  cat > "$STATE/nginx.conf" <<CONF
worker_processes 1;
pid $STATE/nginx.pid;
error_log $STATE/nginx-error.log warn;
events { worker_connections 1024; }
http {
    log_format routed '\$remote_addr route=\$dlviz_route upstream=\$upstream_addr "\$request" \$status';
    access_log $STATE/nginx-access.log routed;
    client_body_temp_path $STATE/tmp/body;
    proxy_temp_path $STATE/tmp/proxy;
    fastcgi_temp_path $STATE/tmp/fastcgi;
    uwsgi_temp_path $STATE/tmp/uwsgi;
    scgi_temp_path $STATE/tmp/scgi;
    client_max_body_size 25m;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    map \$cookie_dlviz_route \$dlviz_route { "" \$request_id; default \$cookie_dlviz_route; }
    upstream dlviz {
        hash \$dlviz_route consistent;
$servers    }
    server {
        listen 127.0.0.1:$lb;
        location / {
            proxy_pass http://dlviz;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
            proxy_buffering off;
            add_header Set-Cookie "dlviz_route=\$dlviz_route; Path=/; HttpOnly; SameSite=Lax" always;
        }
    }
}
CONF
  # nginx only once every replica is warm: healthy, and every page and tab opened once on each dataset, so no
  # student waits for a model to load and compile (what the readiness probe of deploy/k8s.yaml waits for).
  local warmers=""
  for i in "${!ports[@]}"; do
    "$PY" bench/soak.py --warm-only --url "http://127.0.0.1:${ports[$i]}" --warmup-limit 600 \
      > "$STATE/warm-$((i + 1)).json" 2>&1 &
    warmers+="$! "
  done
  for pid in $warmers; do wait "$pid" || { echo "a replica failed its warm-up: $STATE/warm-*.json" >&2; exit 1; }; done
  for f in "$STATE"/warm-*.json; do echo "$(basename "$f" .json): $(cat "$f")"; done
  /usr/sbin/nginx -c "$STATE/nginx.conf" -e "$STATE/nginx-error.log"
  echo "http://127.0.0.1:$lb" > "$STATE/url"
  echo "load balancer: http://127.0.0.1:$lb   (state: $STATE)"
}

stop() {
  if [ -e "$STATE/nginx.pid" ]; then kill "$(cat "$STATE/nginx.pid")" 2>/dev/null || true; fi
  for f in "$STATE"/replica-*.pid; do
    [ -e "$f" ] || continue
    kill -- "-$(cat "$f")" 2>/dev/null || kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
  sleep 1
  rm -f "$STATE/nginx.pid"
  echo "stopped"
}

case "${1:-}" in
  start) start "${2:-3}" ;;
  stop) stop ;;
  *) echo "usage: $0 start [N] | stop" >&2; exit 2 ;;
esac
