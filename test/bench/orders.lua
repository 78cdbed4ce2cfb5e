-- 3-line orders, each with an Idempotency-Key of its own, for accounts of one storefront.
-- Env: KEY (the storefront's API key), ACCOUNTS (comma-separated), RUN (a unique prefix).
local accounts, n, thread_id = {}, 0, 0
for a in string.gmatch(os.getenv("ACCOUNTS"), "[^,]+") do accounts[#accounts + 1] = a end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
  wrk.headers["Content-Type"] = "application/json"
end
-- SKUs sold by the piece with no minimum: not every 25th (boxes of 6) or 40th (min 10).
local function sku(lo, span)
  local i
  repeat i = lo + math.random(0, span - 1) until i % 25 ~= 0 and i % 40 ~= 0
  return string.format("BRG-%05d", i)
end
function request()
  n = n + 1
  local account = accounts[math.random(#accounts)]
  local body = string.format('{"lines":[{"sku":"%s","qty":2},{"sku":"%s","qty":3},{"sku":"%s","qty":5}]}',
    sku(1, 330), sku(331, 330), sku(661, 340))
  wrk.headers["Idempotency-Key"] = string.format("%s-%d-%d", os.getenv("RUN"), tid or 0, n)
  return wrk.format("POST", "/v1/accounts/" .. account .. "/orders", nil, body)
end
