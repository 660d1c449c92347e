-- wrk script: POST /api/v1/statuses as a random user, each post with unique text and a hashtag.
local tokens = {}
local counter = 0
init = function(args)
  for line in io.lines(args[1]) do tokens[#tokens + 1] = line end
  math.randomseed(os.time() + (tonumber(tostring({}):sub(8)) or 0))
end
request = function()
  counter = counter + 1
  local token = tokens[math.random(#tokens)]
  local body = "status=" .. "Benchmark+post+" .. counter .. "+" .. math.random(1000000) .. "+%23bench"
  return wrk.format("POST", "/api/v1/statuses", {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
done = function(summary, latency, requests)
  io.write(string.format('JSON {"requests": %d, "duration_us": %d, "errors": %d, "non2xx": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout, summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
