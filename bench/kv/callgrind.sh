#!/usr/bin/env bash
# Instructions per KV v2 request, counted by callgrind: steadier than req/s
# on a shared machine. Starts Sealbox under valgrind, sets up the same mount
# and 1 KiB secret as run.sh, zeroes the counters, sends a fixed number of
# keep-alive requests from one client (bench/kv/callgrind_load.py), dumps
# and prints the total instructions over the requests, and the top functions.
#
#   bench/kv/callgrind.sh read  [requests=2000]
#   bench/kv/callgrind.sh write [requests=1000]
#   OUT=/tmp/cg bench/kv/callgrind.sh read   # keep the dump for callgrind_annotate
# Not a test: figures only.
source "$(dirname "$0")/../common.sh"
command -v valgrind >/dev/null || { echo "missing valgrind" >&2; exit 1; }
mode=${1:-read}
n=${2:-$([ "$mode" = write ] && echo 1000 || echo 2000)}
out=${OUT:-$tmp/cg}
mkdir -p "$out"

make_certs
sb_wrapper=(valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out.%p")
sb_start_tries=600
start_sealbox
port=${sb_url##*:}
kv_setup "$sb_url" "$sb_token"

load() { "$py" "$root/bench/kv/callgrind_load.py" "$mode" "$1" "$port" "$tmp/ca.crt" "$sb_token"; }
load 200  # warm up: caches, connections, every key of a write run once
callgrind_control -z "$sb_pid" >/dev/null
load "$n"
callgrind_control -d "$sb_pid" >/dev/null
dump="$out/callgrind.out.$sb_pid.1"
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",","",$1); print $1}')
echo "$mode: $n requests, $total instructions, $((total / n)) per request"
callgrind_annotate --inclusive=no "$dump" 2>/dev/null | sed -n '/file:function/,$p' | head -${TOP:-40}
echo "dump: $dump"
