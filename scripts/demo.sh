#!/usr/bin/env bash
# Runs the simulator and the exporter on loopback, prints the URLs, stops both on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tmp/demo
mkdir -p "$dir"
sim_addr=${SIM_ADDR:-127.0.0.1:14443}
exp_addr=${EXPORTER_ADDR:-127.0.0.1:9925}
printf '%s' demo-password > "$dir/password"
chmod 600 "$dir/password"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 0' INT TERM   # Ctrl-C is how the demo ends, not a failure

./vb365-simulator --listen-address="$sim_addr" --tls --tls.ca-out="$dir/ca.pem" \
  --password-file="$dir/password" --demo --admin --config-out="$dir/config.yml" &
pids+=($!)
for _ in $(seq 50); do [ -s "$dir/config.yml" ] && break; sleep 0.1; done
[ -s "$dir/config.yml" ] || { echo "simulator did not start" >&2; exit 1; }

./vb365_exporter --config.file="$dir/config.yml" --web.listen-address="$exp_addr" &
pids+=($!)
sleep 1
cat <<MSG

  VB365 simulator : https://$sim_addr  (CA: $dir/ca.pem, admin API: https://$sim_addr/admin/stats)
  Exporter        : http://$exp_addr/
  Metrics         : http://$exp_addr/metrics
  Config in use   : $dir/config.yml

  Press Ctrl-C to stop both.
MSG
wait -n "${pids[@]}"
