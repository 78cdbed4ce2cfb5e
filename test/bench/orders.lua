-- Orders of LINES lines (default 3), each with an Idempotency-Key of its own, spread over
-- the accounts of every storefront (each with its own key), as pgbench spreads its
-- orders over customers.
-- Env: STOREFRONTS ("key=acc,acc;key=acc,..."), RUN (a unique prefix for the keys),
-- ITEMS (the catalog's size: lines are drawn from all of it; default the demo's 1,000),
-- LINES (lines per order: one from each LINES-th part of the catalog).
local buyers, n = {}, 0
for key, accounts in string.gmatch(os.getenv("STOREFRONTS"), "([^=;]+)=([^;]+)") do
  for a in string.gmatch(accounts, "[^,]+") do buyers[#buyers + 1] = {key = key, account = a} end
end
local items = tonumber(os.getenv("ITEMS") or "") or 1000
local lines = tonumber(os.getenv("LINES") or "") or 3
local part = math.floor(items / lines) -- one line from each part: no order repeats a SKU
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
  local qty, out = {2, 3, 5}, {}
  for k = 0, lines - 1 do
    out[#out + 1] = string.format('{"sku":"%s","qty":%d}', sku(k * part + 1, k < lines - 1 and part or items - k * part), qty[k % 3 + 1])
  end
  local body = '{"lines":[' .. table.concat(out, ",") .. ']}'
  wrk.headers["Authorization"] = "Bearer " .. b.key
  wrk.headers["Idempotency-Key"] = string.format("%s-%d-%d", os.getenv("RUN"), tid or 0, n)
  return wrk.format("POST", "/v1/accounts/" .. b.account .. "/orders", nil, body)
end
