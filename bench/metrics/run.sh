#!/usr/bin/env bash
# What recording metrics costs a KV v2 read (issue 24: under 3%). Two Sealbox
# servers in the same run, same binary, same durable RocksDB storage and
# certificate: one records metrics (the default), the other has
# `telemetry { filter_default = false }`, which stops all recording on the
# request path. Both serve the same 1 KiB KV v2 secret to wrk (keep-alive,
# X-Vault-Token).
#
#   bench/metrics/run.sh                            # 10 rounds, 5 s per run, 2 threads, 64 connections
#   ROUNDS=20 DURATION=10s bench/metrics/run.sh
#
# Many short rounds, interleaved and alternating which server goes first, so
# the noise of the shared machine and any drift fall on both; the per-round
# ratios, their median and the server CPU per request (µs, from
# /proc/<pid>/stat) are printed. Before the runs it checks that the first
# server counts requests (vault.core.handle_request) and the second does not.
# No nginx ceiling here: bench/kv/run.sh measures that. Not a test: no
# pass/fail, figures only.
ROUNDS=${ROUNDS:-10}
source "$(dirname "$0")/../common.sh"

make_certs
start_sealbox metrics-on
on_url=$sb_url on_token=$sb_token on_pid=$sb_pid
start_sealbox metrics-off $'telemetry {\n  filter_default = false\n}'
off_url=$sb_url off_token=$sb_token off_pid=$sb_pid
kv_setup "$on_url" "$on_token"
kv_setup "$off_url" "$off_token"

echo "warming up..." >&2
for ut in "$on_url $on_token" "$off_url $off_token"; do
  set -- $ut
  wrk -t"$THREADS" -c"$CONNS" -d2s -H "X-Vault-Token: $2" "$1/v1/secret/data/bench" > /dev/null
done

# handle_request's count on a server: > 0 when it records, 0 when it does not.
handled() {
  c -H "X-Vault-Token: $2" "$1/v1/sys/metrics" | "$py" -c '
import json, sys
samples = json.load(sys.stdin)["Samples"]
print(sum(s["Count"] for s in samples if s["Name"] == "vault.core.handle_request"))'
}
[ "$(handled "$on_url" "$on_token")" -gt 0 ] || { echo "metrics-on recorded no request" >&2; exit 1; }
[ "$(handled "$off_url" "$off_token")" = 0 ] || { echo "metrics-off recorded requests" >&2; exit 1; }

read_on() { wrk_run metrics-on "$on_pid" "$on_url/v1/secret/data/bench" "$on_token"; }
read_off() { wrk_run metrics-off "$off_pid" "$off_url/v1/secret/data/bench" "$off_token"; }
for i in $(seq "$ROUNDS"); do
  echo "round $i" >&2
  if [ $((i % 2)) = 1 ]; then read_on; read_off; else read_off; read_on; fi
done

printf '\nKV v2 read, 1 KiB secret, wrk -t%s -c%s -d%s, %s rounds, keep-alive, TLS, %s cores\n' \
  "$THREADS" "$CONNS" "$DURATION" "$ROUNDS" "$(nproc)"
report metrics-on/metrics-off'>=0.97' cpu_us:metrics-on/metrics-off'<=1.03'
