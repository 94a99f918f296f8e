#!/usr/bin/env bash
# Cost of policy evaluation on the hot path: lookup-self and a KV v2 read with
# a token holding 5 realistic policies (+ default) versus the root token, in
# the same run, against the same server (durable RocksDB storage, TLS,
# keep-alive, wrk). Root skips ACL evaluation entirely, so the ratio
# policy/root is what authorisation costs (target >= 0.95).
#
#   bench/acl/run.sh                 # 10 s per run, 2 threads, 64 connections
#   DURATION=30s CONNS=128 bench/acl/run.sh
#
# Each pair is measured root, policy, policy, root and averaged, so slow
# drift of the machine (other tenants, CPU boost) cancels out.
#
# lookup-self answers differ by token: the init root token has no lease, so
# its answer lacks expire_time/issue_time/renewable and lists one policy. The
# ratio against a root token created with the same 24h TTL (same answer
# shape, still no ACL evaluation) isolates the cost of policy evaluation; the
# ratio against the init root token is printed too.
# Not a test: no pass/fail, figures only.
# Setup (certificate, Sealbox, KV v2 with the 1 KiB secret) is bench/common.sh's.
DURATION=${DURATION:-10s}
source "$(dirname "$0")/../common.sh"
make_certs
start_sealbox
kv_setup "$sb_url" "$sb_token"
sb=$sb_url
root_token=$sb_token
rc() { c -H "X-Vault-Token: $root_token" "$@"; }

# Five policies shaped like a team's: per-app trees, `+` paths, a deny island,
# parameter constraints on the benchmarked path (the same as acl_bench.cc).
for p in 0 1 2 3 4; do
  "$py" - "$p" > "$tmp/p$p.json" <<'PY'
import json, sys
p = int(sys.argv[1])
t = ""
for i in range(8):
    app = f"app{p*10+i}"
    t += f'path "secret/data/{app}/*" {{ capabilities = ["create", "read", "update", "list"] }}\n'
    t += f'path "secret/metadata/{app}/*" {{ capabilities = ["list", "read"] }}\n'
t += 'path "secret/data/shared/+/config" { capabilities = ["read"] }\n'
t += f'path "secret/data/team{p}/+/creds/*" {{ capabilities = ["read"] }}\n'
t += f'path "secret/data/app{p*10}/admin/*" {{ capabilities = ["deny"] }}\n'
t += f'path "database/creds/role{p}" {{ capabilities = ["read"] }}\n'
t += 'path "secret/data/bench" {\n  capabilities = ["read", "update"]\n  allowed_parameters = { "data" = [] "options" = [] }\n}\n'
t += 'path "sys/leases/renew" { capabilities = ["update"] }\n'
print(json.dumps({"policy": t}))
PY
  rc -o /dev/null -X PUT --data-binary "@$tmp/p$p.json" "$sb/v1/sys/policies/acl/team$p"
done
create=$(rc -X POST -d '{"policies":["team0","team1","team2","team3","team4"],"ttl":"24h"}' "$sb/v1/auth/token/create")
pol_token=$("$py" -c 'import json,sys; print(json.load(sys.stdin)["auth"]["client_token"])' <<<"$create")
create_root=$(rc -X POST -d '{"ttl":"24h"}' "$sb/v1/auth/token/create")
root_ttl_token=$("$py" -c 'import json,sys; a=json.load(sys.stdin)["auth"]; assert a["policies"]==["root"]; print(a["client_token"])' <<<"$create_root")
"$py" -c 'import json,sys; a=json.load(sys.stdin)["auth"]; assert len(a["policies"])==6, a["policies"]' <<<"$create"
for t in "$root_token" "$pol_token" "$root_ttl_token"; do
  code=$(c -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $t" "$sb/v1/secret/data/bench")
  [ "$code" = 200 ] || { echo "KV read with a bench token gave $code" >&2; exit 1; }
  code=$(c -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $t" "$sb/v1/auth/token/lookup-self")
  [ "$code" = 200 ] || { echo "lookup-self with a bench token gave $code" >&2; exit 1; }
done

# Prints "rps p50_ms p99_ms non2xx" for one wrk run.
run_wrk() {
  local url=$1 tok=$2
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -H "X-Vault-Token: $tok" "$url")
  echo "$out" >> "$tmp/wrk.log"
  "$py" - "$out" <<'PY'
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

# Measures base, policy, policy, base for one URL; prints the averages
# (base first, then policy).
pair() {
  local url=$1 base=$2
  read -r r1 rp1 rq1 re1 < <(run_wrk "$url" "$base")
  read -r p1 pp1 pq1 pe1 < <(run_wrk "$url" "$pol_token")
  read -r p2 pp2 pq2 pe2 < <(run_wrk "$url" "$pol_token")
  read -r r2 rp2 rq2 re2 < <(run_wrk "$url" "$base")
  "$py" - "$r1" "$r2" "$rp1" "$rp2" "$rq1" "$rq2" "$re1" "$re2" "$p1" "$p2" "$pp1" "$pp2" "$pq1" "$pq2" "$pe1" "$pe2" <<'PY'
import sys
v = [float(x) for x in sys.argv[1:]]
avg = lambda a, b: (a + b) / 2
print(f"{avg(v[0],v[1]):.0f} {avg(v[2],v[3]):.2f} {avg(v[4],v[5]):.2f} {int(v[6]+v[7])} "
      f"{avg(v[8],v[9]):.0f} {avg(v[10],v[11]):.2f} {avg(v[12],v[13]):.2f} {int(v[14]+v[15])}")
PY
}

echo "warming up..." >&2
wrk -t"$THREADS" -c"$CONNS" -d2s -H "X-Vault-Token: $root_token" "$sb/v1/secret/data/bench" > /dev/null
wrk -t"$THREADS" -c"$CONNS" -d2s -H "X-Vault-Token: $pol_token" "$sb/v1/secret/data/bench" > /dev/null

read -r lr lrp lrq lre lp lpp lpq lpe < <(pair "$sb/v1/auth/token/lookup-self" "$root_token")
read -r tr trp trq tre tp tpp tpq tpe < <(pair "$sb/v1/auth/token/lookup-self" "$root_ttl_token")
read -r kr krp krq kre kp kpp kpq kpe < <(pair "$sb/v1/secret/data/bench" "$root_token")

ratio() { "$py" -c "print(f'{$1/$2:.3f}')"; }
printf '\nACL cost: 5 policies (+default) vs root, wrk -t%s -c%s -d%s x2 each, keep-alive, TLS, %s cores\n' \
  "$THREADS" "$CONNS" "$DURATION" "$(nproc)"
printf '%-28s %10s %9s %9s %8s\n' "run" "req/s" "p50 ms" "p99 ms" "non-2xx"
printf '%-28s %10s %9s %9s %8s\n' "lookup-self, root" "$lr" "$lrp" "$lrq" "$lre"
printf '%-28s %10s %9s %9s %8s\n' "lookup-self, 5 policies" "$lp" "$lpp" "$lpq" "$lpe"
printf '%-28s %10s %9s %9s %8s\n' "lookup-self, root 24h TTL" "$tr" "$trp" "$trq" "$tre"
printf '%-28s %10s %9s %9s %8s\n' "lookup-self, 5 policies" "$tp" "$tpp" "$tpq" "$tpe"
printf '%-28s %10s %9s %9s %8s\n' "kv2 read, root" "$kr" "$krp" "$krq" "$kre"
printf '%-28s %10s %9s %9s %8s\n' "kv2 read, 5 policies" "$kp" "$kpp" "$kpq" "$kpe"
printf '\nratio policy/root (target >= 0.95): kv2 read %s; lookup-self vs root with the same TTL %s\n' \
  "$(ratio "$kp" "$kr")" "$(ratio "$tp" "$tr")"
printf 'lookup-self vs the init root token (smaller answer: no lease fields, one policy): %s\n' \
  "$(ratio "$lp" "$lr")"
