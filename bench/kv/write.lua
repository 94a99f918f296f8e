-- wrk script: durable KV v2 writes of a ~1 KiB secret, spread over 4096 keys
-- per wrk thread so writers do not queue on one key's lock (a real workload
-- writes many secrets, not one).
local thread_id = 0
local counter = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  counter = 0
  local value = string.rep("x", 1000)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"data":{"password":"' .. value .. '"}}'
end

function request()
  counter = counter + 1
  local path = string.format("/v1/secret/data/bench-w/t%d/k%d", thread_id, counter % 4096)
  return wrk.format(nil, path)
end
