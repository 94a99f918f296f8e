"""The differential runner: plays one scenario's steps against OpenBao and
Sealbox, normalises what must differ, and lists every other difference.

A scenario is data (tests/conformance/scenarios/*.yaml):

    services: [postgres, kubernetes]   # optional: shared fixtures it needs
    servers: initialized               # or uninitialized (then sys/init is a step)
    steps:
      - name: write a secret           # optional; defaults to "METHOD path"
        method: PUT
        path: /v1/kvc/data/a
        token: root                    # root (default), none, bad, or ${saved}
        body: {data: {x: "1"}}         # JSON body; or raw: "text" for bytes as is
        headers: {X-Vault-Request: "true"}
        save: {tok: auth.client_token} # values kept per server for later steps
        compare: false                 # set-up only (not counted, not compared)
        volatile: [body.data.keys]     # fields compared by type and length only
        settle: true                   # after it, wait until each server is active
        ready: /v1/kv2/config          # after it, wait until GET of this path answers 200
                                       # on each server (a new KV v2 mount upgrades first)

`${dir}` is each server's own directory (audit files go there).

`${name}` in a path, header, token or body string is replaced by the value
saved under that name on the same server (each server has its own tokens,
accessors and lease ids), or by a fixture value (pg_url, k8s_host, ...).
A string that is exactly `${name}` takes the value's own JSON type.

Two answers are compared on: status code, media type of Content-Type, and the
JSON body: the same keys at every level, the same value types, and the same
values once the values that must differ (ids, times, tokens, accessors, HMACs,
version strings) are replaced by placeholders. Each remaining difference is a
`Difference`; tests/conformance/differences.yaml says which are deliberate.
"""

import copy
import json
import os
import re
import time

# --- normalisation ------------------------------------------------------------
# Keys whose values differ run to run or server to server. A value that is
# empty (None, "", 0) stays as is: "no expiry" and "not deleted" are facts.
VOLATILE_KEYS = {
    "request_id", "lease_id", "accessor", "client_token", "id", "token", "root_token", "nonce",
    "creation_time", "created_time", "updated_time", "deletion_time", "expire_time", "issue_time",
    "last_renewal_time", "last_renewal", "last_login", "server_time_utc", "install_time", "build_date",
    "cluster_id", "cluster_name", "version", "build_version", "entity_id", "username", "password",
    "keys_base64", "unseal_key", "uuid", "leader_address", "leader_cluster_address", "api_addr",
    "cluster_addr", "hash", "hmac", "key_id", "raft_committed_index", "raft_applied_index",
    "leader_active_time", "last_wal", "replication_dr_mode", "replication_performance_mode",
    "term", "encryptions", "enterprise", "secret_id_accessor", "last_vault_rotation", "lease_start_time",
    "wrapped_accessor",
}
VOLATILE_NUMBERS = {"version"}  # KV v2 versions are deterministic numbers; only strings are volatile
TOLERANT_NUMBERS = {"ttl", "lease_duration", "secret_duration"}  # counted down in seconds; +-2 s

PATTERNS = [
    (re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"), "<uuid>"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"), "<time>"),
    (re.compile(r"^(hvs|hvb|hvr|s|b|r)\.[A-Za-z0-9_-]{16,}$"), "<token>"),
    (re.compile(r"^hmac-sha256:[0-9a-f]+$"), "<hmac>"),
    (re.compile(r"^[0-9a-f]{40,}$"), "<hex>"),  # unseal shares, nonces, key material
    (re.compile(r"^v\d+\.\d+\.\d+\+builtin(\.[a-z]+)?$"), "<plugin-version>"),  # the server's own version
    # mount accessors: auth_<type>_<hex> for auth methods, <type>_<hex> for engines
    (re.compile(r"^auth_[a-z0-9_]+_[0-9a-f]{8}$"), "<auth-accessor>"),
    (re.compile(r"^(kv|cubbyhole|system|identity|database|generic)_[0-9a-f]{8}$"), "<mount-accessor>"),
]


def _volatile(key, value):
    if value in (None, "", 0, [], {}) or isinstance(value, bool):
        return False
    if key in VOLATILE_NUMBERS and isinstance(value, (int, float)):
        return False
    return key in VOLATILE_KEYS


def normalise(value, key=None):
    """A copy of value with volatile values replaced by typed placeholders."""
    if isinstance(value, dict):
        return {k: normalise(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key in VOLATILE_KEYS and value and all(isinstance(v, str) for v in value):
            return ["<volatile>"] * len(value)
        return [normalise(v, key) for v in value]
    if isinstance(value, str):
        # A recognised shape says more than "volatile" (an auth accessor
        # must look like one on both servers).
        for pattern, placeholder in PATTERNS:
            if pattern.match(value):
                return placeholder
        # lease ids embed the mount path, then a random part
        m = re.match(r"^(.+/)[A-Za-z0-9]{20,}$", value)
        if m and key == "lease_id":
            return m.group(1) + "<random>"
    if _volatile(key, value):
        return "<volatile:%s>" % type(value).__name__
    return value


def glob(pattern):
    """A field pattern: `*` matches anything, every other character itself
    (fields hold brackets: body.errors[0])."""
    return re.compile("^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$")


def any_glob(patterns, value):
    """value matches the pattern, or one of the list of patterns."""
    return any(glob(p).match(value) for p in (patterns if isinstance(patterns, list) else [patterns]))


def mask(answer, fields):
    """answer with the values at the given fields (globs, as in allowances)
    replaced by their type and length: for lists of random names (token
    accessors, lease ids under a prefix)."""
    status, headers, body = answer
    if not fields or not isinstance(body, (dict, list)):
        return answer
    patterns = [glob(f) for f in fields]

    def walk(v, field):
        if any(p.match(field) for p in patterns):
            return "<masked:%s:%d>" % (_type_name(v), len(v) if isinstance(v, (list, dict, str)) else 0)
        if isinstance(v, dict):
            return {k: walk(x, "%s.%s" % (field, k)) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, "%s[%d]" % (field, i)) for i, x in enumerate(v)]
        return v
    return status, headers, walk(body, "body")


# --- comparison ------------------------------------------------------------------
class Difference:
    def __init__(self, scenario, step, request, field, peer, ours):
        self.scenario, self.step, self.request = scenario, step, request
        self.field, self.peer, self.ours = field, peer, ours

    def __str__(self):
        def short(v):
            s = json.dumps(v, sort_keys=True) if not isinstance(v, str) or v.startswith("<") else json.dumps(v)
            return s if len(s) <= 300 else s[:300] + "..."
        return "%s / %s [%s] %s: openbao=%s sealbox=%s" % (
            self.scenario, self.step, self.request, self.field, short(self.peer), short(self.ours))


_MISSING = "<missing>"


def _type_name(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return type(v).__name__


def diff_json(peer, ours, field="body"):
    """Yields (field, peer value, our value) for every difference."""
    if isinstance(peer, dict) and isinstance(ours, dict):
        for k in sorted(set(peer) | set(ours)):
            sub = "%s.%s" % (field, k)
            if k not in ours:
                yield sub, peer[k], _MISSING
            elif k not in peer:
                yield sub, _MISSING, ours[k]
            else:
                yield from diff_json(peer[k], ours[k], sub)
        return
    if isinstance(peer, list) and isinstance(ours, list) and len(peer) == len(ours):
        for i, (a, b) in enumerate(zip(peer, ours)):
            yield from diff_json(a, b, "%s[%d]" % (field, i))
        return
    if _type_name(peer) != _type_name(ours):
        yield field, peer, ours
        return
    if isinstance(peer, (int, float)) and not isinstance(peer, bool):
        leaf = field.rsplit(".", 1)[-1]
        if leaf in TOLERANT_NUMBERS and abs(peer - ours) <= 2:
            return
    if peer != ours:
        yield field, peer, ours


def media_type(headers):
    return (headers.get("content-type") or "").split(";")[0].strip().lower()


def compare_answers(scenario, step, request, peer, ours):
    """peer and ours are (status, headers, parsed body); returns Differences."""
    out = []
    if peer[0] != ours[0]:
        out.append(Difference(scenario, step, request, "status", peer[0], ours[0]))
    if media_type(peer[1]) != media_type(ours[1]) and (peer[2] is not None or ours[2] is not None):
        out.append(Difference(scenario, step, request, "content-type", media_type(peer[1]), media_type(ours[1])))
    for field, a, b in diff_json(normalise(peer[2]), normalise(ours[2])):
        out.append(Difference(scenario, step, request, field, a, b))
    return out


# --- the allow-list -----------------------------------------------------------------
class Allowance:
    """One entry of differences.yaml: where a difference is deliberate, and why."""

    KEYS = {"doc", "reason", "scenario", "step", "request", "field", "openbao_differs_from_vault", "ours", "peer"}

    def __init__(self, entry):
        unknown = set(entry) - self.KEYS
        assert not unknown, "differences.yaml: unknown keys %s in %s" % (unknown, entry)
        assert entry.get("doc") and entry.get("reason"), "differences.yaml: doc and reason are required: %s" % entry
        assert entry.get("field"), "differences.yaml: every entry names the field it allows: %s" % entry
        self.entry = entry
        self.used = 0

    def matches(self, d):
        e = self.entry
        if "scenario" in e and not any_glob(e["scenario"], d.scenario):
            return False
        if "step" in e and not any_glob(e["step"], d.step):
            return False
        if "request" in e and not re.search(e["request"], d.request):
            return False
        if not any_glob(e["field"], d.field):
            return False
        if "ours" in e and d.ours != e["ours"]:
            return False
        if "peer" in e and not (isinstance(d.peer, str) and re.search(e["peer"], d.peer)):
            return False
        return True


def load_allowances(document):
    """differences.yaml: `rows` (the doc texts, named once) and `allow`."""
    return [Allowance(e) for e in (document or {}).get("allow") or []]


def explain(differences, allowances):
    """The differences no allowance explains; counts each allowance's uses."""
    left = []
    for d in differences:
        hit = next((a for a in allowances if a.matches(d)), None)
        if hit:
            hit.used += 1
        else:
            left.append(d)
    return left


# --- playing a scenario ---------------------------------------------------------------
_VAR = re.compile(r"\$\{([A-Za-z0-9_.:/-]+)\}")


def substitute(value, variables):
    """value with ${name} replaced from variables (a whole-string ${name}
    keeps the variable's own type)."""
    if isinstance(value, str):
        m = _VAR.fullmatch(value)
        if m:
            return variables.lookup(m.group(1))
        return _VAR.sub(lambda m: str(variables.lookup(m.group(1))), value)
    if isinstance(value, dict):
        return {substitute(k, variables): substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    return value


def dig(body, dotted):
    """body's value at a dotted path (list indexes as numbers)."""
    cur = body
    for part in dotted.split("."):
        if isinstance(cur, list):
            cur = cur[int(part)]
        elif isinstance(cur, dict):
            cur = cur[part]
        else:
            raise KeyError(dotted)
    return cur


BAD_TOKEN = "s.AAAAAAAAAAAAAAAAAAAAAAAA"


def step_request(step, variables):
    """(method, path, token, body, headers, raw) of a step on one server."""
    method = step.get("method", "GET")
    path = substitute(step["path"], variables)
    token = step.get("token", "root")
    if token == "root":
        token = variables.lookup("root")
    elif token == "none":
        token = None
    elif token == "bad":
        token = BAD_TOKEN
    else:
        token = substitute(token, variables)
    body = substitute(copy.deepcopy(step.get("body")), variables) if "body" in step else None
    headers = substitute(dict(step.get("headers") or {}), variables)
    raw = step.get("raw")
    if raw is not None:
        raw = substitute(raw, variables).encode()
    return method, path, token, body, headers, raw


def play(server, step, variables):
    """Sends one step to one server; returns (status, headers, parsed body)."""
    method, path, token, body, headers, raw = step_request(step, variables)
    status, hdrs, data = server.request(method, path, token=token, body=body, headers=headers, raw_body=raw)
    parsed = None
    if data:
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = data.decode(errors="replace")
    for name, where in (step.get("save") or {}).items():
        try:
            variables.values[name] = dig(parsed, where)
        except (KeyError, IndexError, TypeError, ValueError):
            variables.values[name] = None
    return status, hdrs, parsed


class Variables:
    """One server's saved values, over the shared fixture values."""

    def __init__(self, shared, own):
        self.shared = shared
        self.values = dict(own)

    def lookup(self, name):
        if name in self.values:
            return self.values[name]
        if name in self.shared:
            v = self.shared[name]
            return v() if callable(v) else v
        raise KeyError("scenario uses ${%s}, which no step saved and no fixture provides" % name)


def step_name(step):
    return step.get("name") or "%s %s" % (step.get("method", "GET"), step["path"])


def run_scenario(name, scenario, peer, ours, shared):
    """Plays every step on both servers; returns (compared count, Differences)."""
    peer_vars = Variables(shared, {"root": peer.root_token, "unseal_key": (peer.keys or [None])[0], "dir": peer.dir})
    our_vars = Variables(shared, {"root": ours.root_token, "unseal_key": (ours.keys or [None])[0], "dir": ours.dir})
    compared, differences = 0, []
    for step in scenario["steps"]:
        a = play(peer, step, peer_vars)
        b = play(ours, step, our_vars)
        if step.get("settle"):
            settle(peer)
            settle(ours)
        if step.get("ready"):
            await_ready(peer, step["ready"], peer_vars)
            await_ready(ours, step["ready"], our_vars)
        if step.get("compare", True) is False:
            continue
        compared += 1
        a, b = mask(a, step.get("volatile")), mask(b, step.get("volatile"))
        request = "%s %s" % (step.get("method", "GET"), step["path"])
        differences += compare_answers(name, step_name(step), request, a, b)
        dump(name, compared, step, a, b)
    return compared, differences


def settle(server):
    """After an unseal: waits until the server serves as the active node (a
    raft node elects itself a moment after unsealing; one that does not need
    to has no wait_active)."""
    wait = getattr(server, "wait_active", None)
    if wait:
        wait()


def await_ready(server, path, variables, timeout=20.0):
    """Polls GET path with the root token until it answers 200. OpenBao
    answers 400 "Upgrading from non-versioned to versioned data" for a moment
    after a KV v2 mount is enabled; a step that follows at once races it."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status, _, _ = server.request("GET", path, token=variables.lookup("root"))
        if status == 200:
            return
        time.sleep(0.05)
    raise AssertionError("%s did not answer 200 within %.0f s (last status %s)" % (path, timeout, status))


def dump(name, index, step, peer, ours):
    """With CONFORMANCE_DUMP=dir, both answers of each step go to
    dir/<scenario>.jsonl (for writing scenarios and reading differences)."""
    where = os.environ.get("CONFORMANCE_DUMP")
    if not where:
        return
    os.makedirs(where, exist_ok=True)
    with open(os.path.join(where, name + ".jsonl"), "a") as f:
        f.write(json.dumps({"n": index, "step": step_name(step), "openbao": [peer[0], peer[2]],
                            "sealbox": [ours[0], ours[2]]}) + "\n")
