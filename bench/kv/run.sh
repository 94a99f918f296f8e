#!/usr/bin/env bash
# KV v2 read and durable write of a 1 KiB secret: Sealbox against OpenBao
# (the peer it replaces) and nginx (a plain TLS round trip), same machine,
# same certificate, same wrk threads/connections (keep-alive, X-Vault-Token).
#
#   bench/kv/run.sh                        # 3 rounds, 5 s per run, 2 threads, 64 connections
#   ROUNDS=5 DURATION=10s CONNS=128 bench/kv/run.sh
#
# Servers:
#   Sealbox  durable RocksDB storage; a write returns after its WAL record is
#            fsync'd (fdatasync, group commit across concurrent writers).
#   OpenBao  one node as in production: integrated raft storage (bench via
#            tests/peers/openbao.py); a write returns after raft has appended
#            it to its log (raft.db, bbolt, synced on commit, batched across
#            concurrent applies) and applied it to the FSM (vault.db, bbolt).
#   nginx    (Debian nginx-light) serves, as a static file, the exact JSON body
#            Sealbox returns for the secret. Its "writes" are answered from the
#            same file (no storage): that ratio only says how far a durable
#            write is from a plain TLS round trip.
# Runs are interleaved (nginx, Sealbox, OpenBao, per round) so noise from the
# shared machine falls on all three; the medians and the per-round ratios
# Sealbox/OpenBao and Sealbox/nginx are printed. Needs the venv python
# (.venv/bin/python, from scripts/deps) for OpenBao and the report.
# Not a test: no pass/fail, figures only.
source "$(dirname "$0")/../common.sh"
command -v nginx >/dev/null || { echo "missing nginx (apt-get install nginx-light)" >&2; exit 1; }

make_certs
start_sealbox
start_openbao
kv_setup "$sb_url" "$sb_token"
kv_setup "$bao_url" "$bao_token"
c -H "X-Vault-Token: $sb_token" "$sb_url/v1/secret/data/bench" > "$tmp/secret.json"
"$py" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["data"]["data"]["password"])==1000' \
  "$tmp/secret.json" || { echo "sealbox did not return the secret:" >&2; cat "$tmp/secret.json" >&2; exit 1; }

# ---- nginx: same cert, TLS versions and keep-alive; the same JSON body ----
ng_port=$(free_port)
mkdir -p "$tmp/www/v1/secret/data" "$tmp/nginx"
cp "$tmp/secret.json" "$tmp/www/v1/secret/data/bench"
chmod -R a+rX "$tmp/www"
cat > "$tmp/nginx.conf" <<NGINX
worker_processes 2;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  server {
    listen 127.0.0.1:$ng_port ssl;
    ssl_certificate $tmp/server.crt;
    ssl_certificate_key $tmp/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $tmp/www;
    default_type application/json;
    # Writes: answered with the same static body (method becomes GET).
    location /v1/secret/data/ {
      error_page 405 =200 /v1/secret/data/bench;
      try_files \$uri /v1/secret/data/bench;
    }
  }
}
NGINX
nginx -c "$tmp/nginx.conf" -p "$tmp/nginx" &
pids+=($!)
ng="https://127.0.0.1:$ng_port"
for _ in $(seq 1 50); do c -o /dev/null "$ng/v1/secret/data/bench" 2>/dev/null && break; sleep 0.1; done

# ---- runs ----
echo "warming up..." >&2
for ut in "$ng $sb_token" "$sb_url $sb_token" "$bao_url $bao_token"; do
  set -- $ut
  wrk -t"$THREADS" -c"$CONNS" -d2s -H "X-Vault-Token: $2" "$1/v1/secret/data/bench" > /dev/null
done
write=(-s "$root/bench/kv/write.lua")
for i in $(seq "$ROUNDS"); do
  echo "round $i" >&2
  wrk_run nginx-read 0 "$ng/v1/secret/data/bench" "$sb_token"
  wrk_run sealbox-read "$sb_pid" "$sb_url/v1/secret/data/bench" "$sb_token"
  wrk_run openbao-read "$bao_pid" "$bao_url/v1/secret/data/bench" "$bao_token"
  wrk_run nginx-write 0 "$ng/v1/secret/data/bench" "$sb_token" "${write[@]}"
  wrk_run sealbox-write "$sb_pid" "$sb_url/v1/secret/data/bench" "$sb_token" "${write[@]}"
  wrk_run openbao-write "$bao_pid" "$bao_url/v1/secret/data/bench" "$bao_token" "${write[@]}"
done

printf '\nKV v2, 1 KiB secret, wrk -t%s -c%s -d%s, %s rounds, keep-alive, TLS (same cert), %s cores\n' \
  "$THREADS" "$CONNS" "$DURATION" "$ROUNDS" "$(nproc)"
report sealbox-read/openbao-read'>=4' sealbox-read/nginx-read'>=0.5' \
  sealbox-write/openbao-write'>=10' sealbox-write/nginx-write
