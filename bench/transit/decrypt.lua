-- wrk script: Transit decrypt of one 1 KiB ciphertext (CIPHERTEXT in the environment).
function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"ciphertext":"' .. os.getenv("CIPHERTEXT") .. '"}'
end
