#!/usr/bin/env bash
# KMS v2 Encrypt per second through `sealbox kms-plugin`'s socket (kube-
# apiserver's gRPC client, 32-byte DEK seeds, 8 goroutines per core) against
# AES-256-GCM of the same 32 bytes in process, in the same run, and their
# ratio. The Go benchmarks live in tests/kms/bench_test.go (its pinned
# modules; scripts/deps fetched them).
#
#   bench/kms/run.sh          # BENCHTIME=5s per benchmark, ROUNDS=3
# Not a test: figures only.
source "$(dirname "$0")/../common.sh"
BENCHTIME=${BENCHTIME:-5s}
go=$(command -v go || echo /usr/local/go/bin/go)

make_certs
start_sealbox
c -o /dev/null -X POST -H "X-Vault-Token: $sb_token" -d '{"type":"transit"}' "$sb_url/v1/sys/mounts/transit"
c -o /dev/null -X POST -H "X-Vault-Token: $sb_token" -d '{}' "$sb_url/v1/transit/keys/bench"
VAULT_ADDR=$sb_url VAULT_CACERT=$tmp/ca.crt VAULT_TOKEN=$sb_token \
  "$sealbox" kms-plugin -socket "$tmp/kms.sock" -transit-key bench > "$tmp/plugin.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do [ -S "$tmp/kms.sock" ] && break; sleep 0.1; done
[ -S "$tmp/kms.sock" ] || { echo "the plugin did not start:" >&2; cat "$tmp/plugin.log" >&2; exit 1; }

cd "$root/tests/kms"
out=$(SEALBOX_KMS_SOCKET=$tmp/kms.sock GO111MODULE=on GOFLAGS=-mod=readonly GOTOOLCHAIN=local CGO_ENABLED=0 \
  "$go" test -run '^$' -bench . -benchtime "$BENCHTIME" -count "$ROUNDS" .)
echo "$out" >&2
printf '\nKMS v2 Encrypt of a 32-byte DEK seed, %s x %s, %s cores\n' "$ROUNDS" "$BENCHTIME" "$(nproc)"
"$py" - "$out" <<'PY'
import re, statistics, sys
runs = {}
for name, ns in re.findall(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op", sys.argv[1], re.M):
    runs.setdefault(name, []).append(1e9 / float(ns))
kms, aes = statistics.median(runs["KMSEncrypt"]), statistics.median(runs["AESGCMInProcess"])
print("  KMS Encrypt through the socket : %12.0f /s (median)" % kms)
print("  AES-256-GCM in process         : %12.0f /s (median)" % aes)
print("  ratio in-process / KMS         : %12.1fx" % (aes / kms))
PY
