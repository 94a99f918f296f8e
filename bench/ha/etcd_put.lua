-- wrk script: etcd puts of a ~1 KiB value through etcd's JSON gateway
-- (POST /v3/kv/put, key and value base64), spread over 4096 keys per wrk
-- thread like bench/kv/write.lua. Args: the base64 of the value.
local thread_id = 0
local counter = 0

function setup(thread)
  thread:set("thread_id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  counter = 0
  value_b64 = args[1]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(data)
  return ((data:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return b64chars:sub(c + 1, c + 1)
  end) .. ({"", "==", "="})[#data % 3 + 1])
end

function request()
  counter = counter + 1
  local key = b64(string.format("/bench-etcd/t%d/k%d", thread_id, counter % 4096))
  return wrk.format(nil, "/v3/kv/put", nil, '{"key":"' .. key .. '","value":"' .. value_b64 .. '"}')
end
