# Shared by the shell benches (source it): one CA and server certificate,
# Sealbox with durable RocksDB storage and OpenBao with raft storage on that
# certificate, KV v2 set-up, wrk runs recorded for bench/common.py's report.
# Sets: root sealbox py tmp; after start_sealbox: sb_url sb_token sb_pid;
# after start_openbao: bao_url bao_token bao_pid. Everything started is
# stopped and $tmp removed on exit.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sealbox=${SEALBOX_BIN:-${SEALBOX_BUILD_DIR:-$root/build}/server/sealbox}
py=${SEALBOX_PY:-$root/.venv/bin/python}   # the venv python: it has the OpenBao peer
DURATION=${DURATION:-5s}
THREADS=${THREADS:-2}
CONNS=${CONNS:-64}
ROUNDS=${ROUNDS:-3}

for tool in wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install wrk openssl curl)" >&2; exit 1; }
done
[ -x "$sealbox" ] || { echo "no sealbox binary at $sealbox (run scripts/build or set SEALBOX_BIN)" >&2; exit 1; }
[ -x "$py" ] || { echo "no $py (scripts/deps makes the venv with OpenBao)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/sealbox-bench.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP_LOGS:-}" ]; then cp "$tmp"/*.log "$KEEP_LOGS"/ 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
c() { curl -sS --cacert "$tmp/ca.crt" "$@"; }
json_field() { "$py" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# ECDSA P-256 CA and server certificate for 127.0.0.1, used by every server.
make_certs() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=bench CA" \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$tmp/san.ext"
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
    -extfile "$tmp/san.ext" -out "$tmp/server.crt" 2>/dev/null
  chmod 644 "$tmp/server.key"  # nginx workers drop root
}

# Sealbox: real (durable) RocksDB storage, init 1/1, unseal.
# start_sealbox [NAME [EXTRA_HCL]]: a second server needs its own NAME (its
# files are $tmp/NAME.hcl, .log, -data); EXTRA_HCL is appended to its config.
sb_wrapper=()
start_sealbox() {
  local name=${1:-sealbox} extra=${2:-} port; port=$(free_port)
  local data="$tmp/data"
  [ "$name" = sealbox ] || data="$tmp/$name-data"
  mkdir -p "$data"
  cat > "$tmp/$name.hcl" <<HCL
storage "rocksdb" {
  path = "$data"
}
listener "tcp" {
  address       = "127.0.0.1:$port"
  tls_cert_file = "$tmp/server.crt"
  tls_key_file  = "$tmp/server.key"
}
log_level = "warn"
$extra
HCL
  # sb_wrapper: a command to run the server under (valgrind, say), which
  # may start slowly: sb_start_tries tenths of a second.
  # The malloc tunables the Dockerfile and the systemd unit ship with.
  GLIBC_TUNABLES=${SEALBOX_GLIBC_TUNABLES-glibc.malloc.tcache_count=64} \
    "${sb_wrapper[@]}" "$sealbox" server -config "$tmp/$name.hcl" > "$tmp/$name.log" 2>&1 &
  sb_pid=$!
  pids+=("$sb_pid")
  sb_url="https://127.0.0.1:$port"
  for _ in $(seq 1 "${sb_start_tries:-100}"); do
    c -o /dev/null "$sb_url/v1/sys/health" 2>/dev/null && break
    sleep 0.1
  done
  local init; init=$(c -X PUT -d '{"secret_shares":1,"secret_threshold":1}' "$sb_url/v1/sys/init")
  sb_token=$(json_field root_token <<<"$init")
  local key; key=$("$py" -c 'import json,sys; print(json.load(sys.stdin)["keys"][0])' <<<"$init")
  c -o /dev/null -X PUT -d "{\"key\":\"$key\"}" "$sb_url/v1/sys/unseal"
}

# OpenBao: tests/peers/openbao.py (raft, TLS with our certificate), 1/1, active.
start_openbao() {
  "$py" "$root/tests/peers/openbao.py" serve --cert "$tmp/server.crt" --key "$tmp/server.key" \
    --cacert "$tmp/ca.crt" --audit-file "$tmp/bao-audit.log" --ack "$tmp/bao.ack" \
    > "$tmp/bao.json" 2> "$tmp/bao-serve.log" &
  bao_serve_pid=$!
  pids+=("$bao_serve_pid")
  for _ in $(seq 1 600); do [ -s "$tmp/bao.json" ] && break; sleep 0.1; done
  [ -s "$tmp/bao.json" ] || { echo "OpenBao did not start:" >&2; cat "$tmp/bao-serve.log" >&2; exit 1; }
  bao_url=$(json_field url < "$tmp/bao.json")
  bao_token=$(json_field token < "$tmp/bao.json")
  bao_pid=$(json_field pid < "$tmp/bao.json")
}

# bao_audit on|off: OpenBao 2.x takes audit devices only from its config, so
# the serve process declares or removes file/ (writing $tmp/bao-audit.log)
# and reloads with SIGHUP; it appends a line to $tmp/bao.ack when done.
bao_audit() {
  local n; n=$( (cat "$tmp/bao.ack" 2>/dev/null || true) | wc -l)
  kill -"$([ "$1" = on ] && echo USR1 || echo USR2)" "$bao_serve_pid"
  for _ in $(seq 1 300); do [ "$( (cat "$tmp/bao.ack" 2>/dev/null || true) | wc -l)" -gt "$n" ] && return 0; sleep 0.1; done
  echo "OpenBao audit $1 did not finish:" >&2; cat "$tmp/bao-serve.log" >&2; exit 1
}

# KV v2 at secret/ with the 1 KiB secret secret/bench; OpenBao upgrades a new
# KV v2 mount in the background, so the write is retried until it lands.
kv_setup() {
  local url=$1 token=$2 value
  value=$(printf 's%.0s' $(seq 1000))
  c -o /dev/null -X POST -H "X-Vault-Token: $token" -d '{"type":"kv","options":{"version":"2"}}' \
    "$url/v1/sys/mounts/secret"
  for _ in $(seq 1 300); do
    [ "$(c -o /dev/null -w '%{http_code}' -X POST -H "X-Vault-Token: $token" \
      -d "{\"data\":{\"password\":\"$value\"}}" "$url/v1/secret/data/bench")" = 200 ] && return 0
    sleep 0.1
  done
  echo "KV v2 at $url never accepted a write" >&2; exit 1
}

# One wrk run: wrk_run LABEL PID URL TOKEN [wrk args]; PID 0 for no CPU figure.
# Appends "label rps p50 p99 non2xx errors cpu_us" to $tmp/results and shows it.
ticks() { if [ "$1" = 0 ]; then echo -; else awk '{print $14 + $15}' "/proc/$1/stat"; fi; }
wrk_run() {
  local label=$1 pid=$2 url=$3 token=$4; shift 4
  local t0 t1 out
  t0=$(ticks "$pid")
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "X-Vault-Token: $token" "$@" "$url")
  t1=$(ticks "$pid")
  echo "$out" >> "$tmp/wrk.log"
  if [ "$pid" = 0 ]; then t0=-; t1=; fi
  local line; line="$label $("$py" "$root/bench/common.py" wrk-summary $t0 $t1 <<<"$out")"
  echo "$line" >> "$tmp/results"
  printf '%-22s %s\n' "$label" "${line#* }" >&2
}

report() { "$py" "$root/bench/common.py" report "$tmp/results" "$@"; }
