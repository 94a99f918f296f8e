#!/usr/bin/env bash
# KV v2 read throughput with one file audit device vs none, same server, same
# run (wrk, keep-alive, TLS). Prints req/s, p50, p99 and the ratio.
# Not a test: figures only.  DURATION=5s CONNS=64 PAIRS=7 bench/audit/run.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
sealbox=${SEALBOX_BIN:-${SEALBOX_BUILD_DIR:-$root/build}/server/sealbox}
DURATION=${DURATION:-5s}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}
work=$(mktemp -d); trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$sealbox" server -dev -dev-listen-address=127.0.0.1:$port -dev-root-token-id=bench -log-level=warn >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q "Root Token" "$work/out" && break; sleep 0.1; done
ca=$(sed -n "s/.*VAULT_CACERT='\(.*\)'/\1/p" "$work/out")
api() { curl -sS --cacert "$ca" -H "X-Vault-Token: bench" -H "Content-Type: application/json" "$@"; }
value=$(head -c 700 /dev/urandom | base64 -w0 | head -c 900)
api -X POST -d "{\"data\":{\"v\":\"$value\"}}" "https://127.0.0.1:$port/v1/secret/data/bench" >/dev/null
# Server CPU time in clock ticks (utime + stime), to report CPU per request:
# steadier than req/s on a shared machine, where wrk and neighbours take
# the same cores.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
run() {
  local t0; t0=$(ticks)
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "X-Vault-Token: bench" \
    "https://127.0.0.1:$port/v1/secret/data/bench" > "$work/$1.txt"
  local t1; t1=$(ticks)
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/$1.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/$1.txt"); p99=$(awk '$1=="99%" {print $2}' "$work/$1.txt")
  n=$(awk '/requests in/ {print $1}' "$work/$1.txt")
  cpu=$(awk -v t="$((t1 - t0))" -v hz="$hz" -v n="$n" 'BEGIN {printf "%.1f", t * 1e6 / hz / n}')
  printf "%-24s %10s req/s  p50 %8s  p99 %8s  server CPU %6s us/req\n" "$1" "$rps" "$p50" "$p99" "$cpu"
  echo "$rps" > "$work/$1.rps"
  echo "$cpu" > "$work/$1.cpu"
}
# Runs alternate (none, audited, none, audited, ...) so that noise from
# the rest of the machine falls on both sides; each pair gives a ratio and
# the median pair is the figure.
PAIRS=${PAIRS:-7}
echo "KV v2 read, 1 KiB secret, wrk -t$THREADS -c$CONNS -d$DURATION, $PAIRS alternating pairs"
for i in $(seq "$PAIRS"); do
  run "no-audit-$i"
  api -X PUT -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$work/audit-$i.log\"}}" \
    "https://127.0.0.1:$port/v1/sys/audit/file"
  run "file-audit-$i"
  api -X DELETE "https://127.0.0.1:$port/v1/sys/audit/file"
  echo "  audit lines written: $(wc -l < "$work/audit-$i.log")"
done
python3 - "$work" "$PAIRS" <<'PY'
import sys
work, pairs = sys.argv[1], int(sys.argv[2])
rps = lambda n: float(open("%s/%s.rps" % (work, n)).read())
ratios = sorted(rps("file-audit-%d" % i) / rps("no-audit-%d" % i) for i in range(1, pairs + 1))
print("ratio audit/none per pair: %s" % " ".join("%.2f" % r for r in ratios))
print("ratio audit/none, median pair: %.2f (target >= 0.85)" % ratios[len(ratios) // 2])
cpu = lambda n: float(open("%s/%s.cpu" % (work, n)).read())
cratios = sorted(cpu("no-audit-%d" % i) / cpu("file-audit-%d" % i) for i in range(1, pairs + 1))
print("server CPU per request, none/audit per pair: %s; median %.2f" %
      (" ".join("%.2f" % r for r in cratios), cratios[len(cratios) // 2]))
PY
