-- wrk script: GET a timeline (default /api/v1/timelines/home?limit=20; args[2] overrides) with a random
-- user's token per request.
local tokens = {}
local path = "/api/v1/timelines/home?limit=20"
init = function(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  if args[2] then path = args[2] end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end
request = function()
  local token = tokens[math.random(#tokens)]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end
done = function(summary, latency, requests)
  io.write(string.format('JSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
