-- Used by bench/mixed.py: request the paths given after `--` in turn (each thread starting at a
-- different one), count the anonymous page cache's hits (X-Cache: hit), and print one JSON line.
local paths, next_path = {}, 0
local threads = {}
hits, responses = 0, 0  -- globals: done() reads each thread's through thread:get

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for i, path in ipairs(args) do paths[i] = path end
  next_path = math.random(#paths)
end

function request()
  next_path = next_path % #paths + 1
  return wrk.format("GET", paths[next_path])
end

function response(status, headers, body)
  responses = responses + 1
  if headers["X-Cache"] == "hit" then hits = hits + 1 end
end

function done(summary, latency, requests)
  local all_hits, all_responses = 0, 0
  for _, thread in ipairs(threads) do
    all_hits = all_hits + thread:get("hits")
    all_responses = all_responses + thread:get("responses")
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "errors_status": %d, ' ..
    '"hits": %d, "responses": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), summary.errors.status,
    all_hits, all_responses))
end
