-- wrk script for the login benchmarks (bench/k8s, bench/jwt, bench/approle):
-- POSTs that cycle through a pool of lines in a file (pre-minted projected
-- ServiceAccount JWTs, or whole bodies), each thread starting at its own
-- offset. Three modes:
--
--   wrk ... -s wrk.lua URL -- POOL login ROLE [MOUNT]  POST /v1/auth/<MOUNT, kubernetes>/login {"role":..,"jwt":..}
--   wrk ... -s wrk.lua URL -- POOL review BEARER AUD   POST /apis/authentication.k8s.io/v1/tokenreviews
--                                                      (the body Sealbox sends, with the reviewer's bearer)
--   wrk ... -s wrk.lua URL -- POOL body PATH           POST PATH with each line as the body
--
-- Every answer outside 2xx is counted (the `response` hook); `done` prints one
-- line "RESULT {json}" with requests, duration, non-2xx, socket errors and
-- latency percentiles, which run.py parses.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local pool, n, i, mode, extra, aud
non2xx = 0

function init(args)
  pool = {}
  for line in io.lines(args[1]) do
    if #line > 0 then table.insert(pool, line) end
  end
  n = #pool
  i = (id * 7919) % n
  mode = args[2]
  extra = args[3]
  aud = args[4]  -- review: the audience; login: the mount
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  if mode == "review" then
    wrk.headers["Authorization"] = "Bearer " .. extra
  end
end

function request()
  i = i % n + 1
  local jwt = pool[i]
  if mode == "body" then
    return wrk.format(nil, extra, nil, jwt)
  end
  if mode == "review" then
    return wrk.format(nil, "/apis/authentication.k8s.io/v1/tokenreviews", nil,
      '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"' .. jwt ..
      '","audiences":["' .. aud .. '"]}}')
  end
  return wrk.format(nil, "/v1/auth/" .. (aud or "kubernetes") .. "/login", nil,
    '{"role":"' .. extra .. '","jwt":"' .. jwt .. '"}')
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, bad, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
