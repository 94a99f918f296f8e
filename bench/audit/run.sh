#!/usr/bin/env bash
# KV v2 read of a 1 KiB secret with one file audit device and with none, on
# Sealbox and on OpenBao (raft storage, the same certificate, the same file
# device at file/: on Sealbox enabled with PUT sys/audit/file, on OpenBao
# declared in its config and reloaded with SIGHUP, the only way OpenBao 2.x
# allows without its unsafe API option), same run
# (wrk, keep-alive, TLS). Prints req/s, p50, p99, server CPU per request and
# the ratios audit/none (Sealbox's own cost of auditing) and Sealbox/OpenBao
# with and without the device.
# Not a test: figures only.  DURATION=5s CONNS=64 PAIRS=5 bench/audit/run.sh
# Needs the venv python (.venv/bin/python, from scripts/deps).
source "$(dirname "$0")/../common.sh"
PAIRS=${PAIRS:-5}

make_certs
start_sealbox
start_openbao
kv_setup "$sb_url" "$sb_token"
kv_setup "$bao_url" "$bao_token"

# Sealbox: the API, as its docs say; OpenBao: its config and SIGHUP (bao_audit).
sb_audit() {
  if [ "$1" = on ]; then
    c -o /dev/null -X PUT -H "X-Vault-Token: $sb_token" \
      -d "{\"type\":\"file\",\"options\":{\"file_path\":\"$tmp/sb-audit.log\"}}" "$sb_url/v1/sys/audit/file"
  else
    c -o /dev/null -X DELETE -H "X-Vault-Token: $sb_token" "$sb_url/v1/sys/audit/file"
  fi
}
read_run() {  # read_run LABEL server(sb|bao)
  if [ "$2" = sb ]; then wrk_run "$1" "$sb_pid" "$sb_url/v1/secret/data/bench" "$sb_token"
  else wrk_run "$1" "$bao_pid" "$bao_url/v1/secret/data/bench" "$bao_token"; fi
}
# Runs alternate (none, audited, none, audited, ...; Sealbox then OpenBao
# within each) so that noise from the rest of the machine falls on all four;
# each pair gives a ratio and the median pair is the figure.
echo "KV v2 read, 1 KiB secret, wrk -t$THREADS -c$CONNS -d$DURATION, $PAIRS alternating pairs" >&2
for i in $(seq "$PAIRS"); do
  read_run sealbox-none sb
  read_run openbao-none bao
  sb_audit on
  bao_audit on
  read_run sealbox-audit sb
  read_run openbao-audit bao
  sb_audit off
  bao_audit off
  echo "  audit lines written: sealbox $(wc -l < "$tmp/sb-audit.log"), openbao $(wc -l < "$tmp/bao-audit.log")" >&2
  rm -f "$tmp/sb-audit.log" "$tmp/bao-audit.log"
done
printf '\nKV v2 read, 1 KiB secret, one file audit device vs none, wrk -t%s -c%s -d%s, %s pairs, %s cores\n' \
  "$THREADS" "$CONNS" "$DURATION" "$PAIRS" "$(nproc)"
report sealbox-audit/sealbox-none'>=0.85' openbao-audit/openbao-none \
  sealbox-none/openbao-none'>=4' sealbox-audit/openbao-audit'>=4' cpu_us:sealbox-none/sealbox-audit
