#!/usr/bin/env bash
# Transit encrypt and decrypt of 1 KiB under an aes256-gcm96 key: Sealbox
# against OpenBao's Transit (one node, raft, TLS with the same certificate),
# same wrk threads and connections, runs interleaved per round.
#
#   bench/transit/run.sh            # 3 rounds, 5 s per run, 2 threads, 64 connections
# Not a test: figures only.
source "$(dirname "$0")/../common.sh"

make_certs
start_sealbox
start_openbao
for target in "$sb_url $sb_token" "$bao_url $bao_token"; do
  set -- $target
  c -o /dev/null -X POST -H "X-Vault-Token: $2" -d '{"type":"transit"}' "$1/v1/sys/mounts/transit"
  c -o /dev/null -X POST -H "X-Vault-Token: $2" -d '{"type":"aes256-gcm96"}' "$1/v1/transit/keys/bench"
done
ciphertext() {  # ciphertext URL TOKEN: one encryption of the same 1 KiB
  c -X POST -H "X-Vault-Token: $2" -d "{\"plaintext\":\"$(head -c 1024 /dev/zero | tr '\0' p | base64 -w0)\"}" \
    "$1/v1/transit/encrypt/bench" | "$py" -c 'import json,sys; print(json.load(sys.stdin)["data"]["ciphertext"])'
}
sb_ct=$(ciphertext "$sb_url" "$sb_token")
bao_ct=$(ciphertext "$bao_url" "$bao_token")
[ -n "$sb_ct" ] && [ -n "$bao_ct" ] || { echo "transit setup failed" >&2; exit 1; }

enc=(-s "$root/bench/transit/encrypt.lua")
dec=(-s "$root/bench/transit/decrypt.lua")
echo "warming up..." >&2
wrk -t"$THREADS" -c"$CONNS" -d2s -H "X-Vault-Token: $sb_token" "${enc[@]}" "$sb_url/v1/transit/encrypt/bench" >/dev/null
wrk -t"$THREADS" -c"$CONNS" -d2s -H "X-Vault-Token: $bao_token" "${enc[@]}" "$bao_url/v1/transit/encrypt/bench" >/dev/null
for i in $(seq "$ROUNDS"); do
  echo "round $i" >&2
  wrk_run sealbox-encrypt "$sb_pid" "$sb_url/v1/transit/encrypt/bench" "$sb_token" "${enc[@]}"
  wrk_run openbao-encrypt "$bao_pid" "$bao_url/v1/transit/encrypt/bench" "$bao_token" "${enc[@]}"
  CIPHERTEXT=$sb_ct wrk_run sealbox-decrypt "$sb_pid" "$sb_url/v1/transit/decrypt/bench" "$sb_token" "${dec[@]}"
  CIPHERTEXT=$bao_ct wrk_run openbao-decrypt "$bao_pid" "$bao_url/v1/transit/decrypt/bench" "$bao_token" "${dec[@]}"
done

printf '\nTransit, 1 KiB plaintext, aes256-gcm96, wrk -t%s -c%s -d%s, %s rounds, keep-alive, TLS (same cert), %s cores\n' \
  "$THREADS" "$CONNS" "$DURATION" "$ROUNDS" "$(nproc)"
report sealbox-encrypt/openbao-encrypt sealbox-decrypt/openbao-decrypt \
  cpu_us:openbao-encrypt/sealbox-encrypt cpu_us:openbao-decrypt/sealbox-decrypt
