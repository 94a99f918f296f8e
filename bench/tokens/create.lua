-- wrk script: POST auth/token/create {"ttl":TTL} (a child of the caller's
-- token, with a TTL: a real lease in OpenBao, an expiring token entry in
-- Sealbox). Used by bench/tokens/run.py (rate) and bench/leases/run.py
-- (a fixed number of tokens).
--
--   wrk ... -s create.lua URL -- TTL [PER_THREAD MARKER]
--
-- With PER_THREAD, each thread stops once that many have been answered 2xx
-- (the caller divides its total by wrk's threads) and appends a line to the
-- file MARKER: wrk itself runs on until its -d, so the caller sends it SIGINT
-- once every thread has written its line. `done` prints "CREATED n" (2xx
-- answers over all threads). Requests still in flight when a thread stops
-- may add up to one token per connection.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local quota, marker
created = 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"ttl":"' .. (args[1] or "1h") .. '"}'
  if args[2] then
    quota, marker = tonumber(args[2]), args[3]
  end
end

function response(status, headers, body)
  if status >= 200 and status <= 299 then
    created = created + 1
    if quota and created == quota then
      local f = io.open(marker, "a")
      f:write("done\n")
      f:close()
      wrk.thread:stop()
    end
  end
end

function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do
    n = n + t:get("created")
  end
  io.write(string.format("CREATED %d\n", n))
end
