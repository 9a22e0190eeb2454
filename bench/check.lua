-- wrk script for the check benchmark (bench/credit_check.py): POST a credit check per
-- request, for a random one of the registered customers, with an order id of its own
-- when asked. Arguments after `--`: path, API key, customers, orders (1 or 0), run tag.
-- `done` prints one JSON line with the figures (latencies in microseconds).

local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("thread_number", thread_number)
  table.insert(threads, thread)
end

function init(args)
  path, key, customers, orders, tag = args[1], args[2], tonumber(args[3]), args[4] == "1", args[5]
  counter = 0
  math.randomseed(os.time() * 100 + thread_number)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. key
end

function request()
  counter = counter + 1
  local order = ""
  if orders then
    order = string.format(',"order_id":"%s-%d-%d"', tag, thread_number, counter)
  end
  local body = string.format('{"customer_id":"B-%d","amount":100,"currency":"CNY"%s}',
                             math.random(customers), order)
  return wrk.format(nil, path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"status_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
end
