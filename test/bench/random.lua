-- Reads spread over a catalog: each request's path is PATH_TEMPLATE with {n} replaced by
-- a random item number (1..ITEMS, at least five digits, as the demo SKUs) and {account}
-- by one of ACCOUNTS (comma-separated).
local template, items = os.getenv("PATH_TEMPLATE"), tonumber(os.getenv("ITEMS"))
local accounts = {}
for a in string.gmatch(os.getenv("ACCOUNTS") or "", "[^,]+") do accounts[#accounts + 1] = a end
function request()
  local p = (template:gsub("{n}", string.format("%05d", math.random(items))))
  if #accounts > 0 then p = (p:gsub("{account}", accounts[math.random(#accounts)])) end
  return wrk.format("GET", p)
end
