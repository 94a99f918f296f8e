#!/usr/bin/env bash
# KV v2 throughput against nginx, same machine, same certificate and TLS
# settings, same wrk threads/connections (keep-alive, X-Vault-Token header).
#
#   bench/kv/run.sh                 # 10 s per run, 2 threads, 64 connections
#   DURATION=30s CONNS=128 bench/kv/run.sh
#
# nginx (Debian nginx-light) serves, as a static file, the exact JSON body
# Sealbox returns for the 1 KiB secret, so both send the same bytes. Writes
# against nginx are answered from the same static file (no storage): that
# ratio only says how far a durable write is from a plain TLS round trip.
# Prints req/s, p50, p99 for each run and the sealbox/nginx ratios.
# Not a test: no pass/fail, figures only.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${SEALBOX_BUILD_DIR:-$root/build}
sealbox=${SEALBOX_BIN:-$build/server/sealbox}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}

for tool in wrk nginx openssl curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk nginx-light openssl curl)" >&2; exit 1; }
done
[ -x "$sealbox" ] || { echo "no sealbox binary at $sealbox (run scripts/build or set SEALBOX_BIN)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/sealbox-bench.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# ---- one CA and server certificate for both servers ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$tmp/san.ext"
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
  -extfile "$tmp/san.ext" -out "$tmp/server.crt" 2>/dev/null
chmod 644 "$tmp/server.key"

# ---- sealbox: real (durable) RocksDB storage, init 1/1, unseal, kv v2 ----
sb_port=$(free_port)
mkdir -p "$tmp/data"
cat > "$tmp/sealbox.hcl" <<HCL
storage "rocksdb" {
  path = "$tmp/data"
}
listener "tcp" {
  address       = "127.0.0.1:$sb_port"
  tls_cert_file = "$tmp/server.crt"
  tls_key_file  = "$tmp/server.key"
}
log_level = "warn"
HCL
"$sealbox" server -config "$tmp/sealbox.hcl" > "$tmp/sealbox.log" 2>&1 &
pids+=($!)
sb="https://127.0.0.1:$sb_port"
c() { curl -sS --cacert "$tmp/ca.crt" "$@"; }
for _ in $(seq 1 100); do c -o /dev/null "$sb/v1/sys/health" 2>/dev/null && break; sleep 0.1; done
init=$(c -X PUT -d '{"secret_shares":1,"secret_threshold":1}' "$sb/v1/sys/init")
key=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"][0])' <<<"$init")
token=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["root_token"])' <<<"$init")
c -o /dev/null -X PUT -d "{\"key\":\"$key\"}" "$sb/v1/sys/unseal"
c -o /dev/null -X POST -H "X-Vault-Token: $token" -d '{"type":"kv","options":{"version":"2"}}' "$sb/v1/sys/mounts/secret"
value=$(python3 -c 'print("s"*1000)')
c -o /dev/null -X POST -H "X-Vault-Token: $token" -d "{\"data\":{\"password\":\"$value\"}}" \
  "$sb/v1/secret/data/bench"
c -H "X-Vault-Token: $token" "$sb/v1/secret/data/bench" > "$tmp/secret.json"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["data"]["data"]["password"])==1000' \
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
# Prints "rps p50_ms p99_ms" for one wrk run.
run_wrk() {
  local url=$1; shift
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "X-Vault-Token: $token" "$@" "$url")
  echo "$out" >> "$tmp/wrk.log"
  python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def ms(tok):
    m = re.match(r"([\d.]+)(us|ms|s)", tok)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {errs.group(1) if errs else 0}")
PY
}

echo "warming up..." >&2
wrk -t"$THREADS" -c"$CONNS" -d2s -H "X-Vault-Token: $token" "$sb/v1/secret/data/bench" > /dev/null
wrk -t"$THREADS" -c"$CONNS" -d2s "$ng/v1/secret/data/bench" > /dev/null

read -r nr_rps nr_p50 nr_p99 nr_err < <(run_wrk "$ng/v1/secret/data/bench")
read -r sr_rps sr_p50 sr_p99 sr_err < <(run_wrk "$sb/v1/secret/data/bench")
read -r nw_rps nw_p50 nw_p99 nw_err < <(run_wrk "$ng/v1/secret/data/bench" -s "$root/bench/kv/write.lua")
read -r sw_rps sw_p50 sw_p99 sw_err < <(run_wrk "$sb/v1/secret/data/bench" -s "$root/bench/kv/write.lua")

ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
printf '\nKV v2, 1 KiB secret, wrk -t%s -c%s -d%s, keep-alive, TLS (same cert), %s cores\n' \
  "$THREADS" "$CONNS" "$DURATION" "$(nproc)"
printf '%-22s %10s %9s %9s %8s\n' "run" "req/s" "p50 ms" "p99 ms" "non-2xx"
printf '%-22s %10s %9s %9s %8s\n' "nginx static read" "$nr_rps" "$nr_p50" "$nr_p99" "$nr_err"
printf '%-22s %10s %9s %9s %8s\n' "sealbox kv2 read" "$sr_rps" "$sr_p50" "$sr_p99" "$sr_err"
printf '%-22s %10s %9s %9s %8s\n' "nginx static 'write'" "$nw_rps" "$nw_p50" "$nw_p99" "$nw_err"
printf '%-22s %10s %9s %9s %8s\n' "sealbox kv2 write" "$sw_rps" "$sw_p50" "$sw_p99" "$sw_err"
printf '\nratio sealbox/nginx: read %s (target >= 0.5), write %s; durable writes %s/s (target >= 3000 at 64 conns)\n' \
  "$(ratio "$sr_rps" "$nr_rps")" "$(ratio "$sw_rps" "$nw_rps")" "$sw_rps"
if [ "${KEEP_LOGS:-}" ]; then cp "$tmp/wrk.log" "$tmp/sealbox.log" "${KEEP_LOGS}/"; fi
