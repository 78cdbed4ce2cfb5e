-- Paces each wrk connection: one request, then a pause of `pause_ms`, so that
-- connections × 1000 / (pause_ms + latency) approximates a fixed request rate.
-- Latency is measured per request and excludes the pause.
local pause_ms = tonumber(os.getenv("PAUSE_MS") or "5")
function delay()
  return pause_ms
end
