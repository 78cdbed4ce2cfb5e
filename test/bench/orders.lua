-- 3-line orders, each with an Idempotency-Key of its own, spread over the accounts of
-- every storefront (each with its own key), as pgbench spreads its orders over customers.
-- Env: STOREFRONTS ("key=acc,acc;key=acc,..."), RUN (a unique prefix for the keys),
-- ITEMS (the catalog's size: lines are drawn from all of it; default the demo's 1,000).
local buyers, n = {}, 0
for key, accounts in string.gmatch(os.getenv("STOREFRONTS"), "([^=;]+)=([^;]+)") do
  for a in string.gmatch(accounts, "[^,]+") do buyers[#buyers + 1] = {key = key, account = a} end
end
local items = tonumber(os.getenv("ITEMS") or "") or 1000
local third = math.floor(items / 3) -- one line from each third: no order repeats a SKU
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
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
  local b = buyers[math.random(#buyers)]
  local body = string.format('{"lines":[{"sku":"%s","qty":2},{"sku":"%s","qty":3},{"sku":"%s","qty":5}]}',
    sku(1, third), sku(third + 1, third), sku(2 * third + 1, items - 2 * third))
  wrk.headers["Authorization"] = "Bearer " .. b.key
  wrk.headers["Idempotency-Key"] = string.format("%s-%d-%d", os.getenv("RUN"), tid or 0, n)
  return wrk.format("POST", "/v1/accounts/" .. b.account .. "/orders", nil, body)
end
