#!/usr/bin/env bash
# Runs the simulator and the exporter on loopback, scrapes the exporter every 15 s as
# Prometheus would (so the landing page follows the demo sessions), prints the URLs and
# stops everything on Ctrl-C. SIM_ADDR and EXPORTER_ADDR choose the addresses.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.tmp/demo
mkdir -p "$dir"
sim_addr=${SIM_ADDR:-127.0.0.1:14443}
exp_addr=${EXPORTER_ADDR:-127.0.0.1:9925}
printf '%s' demo-password > "$dir/password"
chmod 600 "$dir/password"

# host and port of an address for bash's /dev/tcp; an empty host is this machine.
host_of() { local h=${1%:*}; h=${h#[}; h=${h%]}; echo "${h:-127.0.0.1}"; }
port_of() { echo "${1##*:}"; }
exp_host=$(host_of "$exp_addr") exp_port=$(port_of "$exp_addr")
# get PATH: one HTTP request to the exporter without curl, which a fresh machine may lack.
get() {
  exec 3<>"/dev/tcp/$exp_host/$exp_port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$exp_addr" >&3
  cat <&3 >/dev/null
  exec 3<&-
}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 0' INT TERM   # Ctrl-C is how the demo ends, not a failure

echo ">> starting vb365-simulator on $sim_addr (SIM_ADDR) with demo sessions"
./vb365-simulator --listen-address="$sim_addr" --tls --tls.ca-out="$dir/ca.pem" \
  --password-file="$dir/password" --demo --admin --config-out="$dir/config.yml" &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/config.yml" ] && break; sleep 0.1; done
[ -s "$dir/config.yml" ] || { echo "simulator did not start (is $sim_addr free? set SIM_ADDR)" >&2; exit 1; }

echo ">> starting vb365_exporter on $exp_addr (EXPORTER_ADDR) with $dir/config.yml"
./vb365_exporter --config.file="$dir/config.yml" --web.listen-address="$exp_addr" &
pids+=($!)
ready=
for _ in $(seq 100); do
  kill -0 "${pids[1]}" 2>/dev/null || break
  if get /-/ready 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "exporter did not start (is $exp_addr free? set EXPORTER_ADDR)" >&2; exit 1; }
get /metrics   # the first scrape, so that the page has something to show

( while sleep 15; do get /metrics 2>/dev/null || true; done ) &
pids+=($!)

cat <<MSG

  Ready. Open these in a browser:

  Landing page    : http://$exp_addr/?refresh=15   (the last scrape of each server; reloads every 15 s)
  Metrics         : http://$exp_addr/metrics
  VB365 simulator : https://$sim_addr  (CA: $dir/ca.pem, admin API: https://$sim_addr/admin/stats)
  Config in use   : $dir/config.yml

  This script scrapes /metrics every 15 s, as Prometheus would. Three sessions are Running
  and end Success, Failed and Warning within four minutes. List the sessions as a user would:
    ./vb365_exporter sessions --config.file=$dir/config.yml

  The installation: seven backup jobs of Contoso, Fabrikam and Northwind (one Failed with its
  reason, one Warning, one running for 18 more minutes, one without success for four days, a
  copy job, a disabled one, one never run), a license at 96 % of its users, a repository with
  7 % free, an object storage repository reporting capacity 0, one proxy offline and one in
  maintenance.

  Press Ctrl-C to stop.
MSG
wait -n "${pids[@]}"
