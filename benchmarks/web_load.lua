-- wrk script for benchmarks/web_load.py: one pass over a list of URLs, each requested exactly once.
--
--   wrk -t T -c C -d 600s --timeout 30s -s web_load.lua http://127.0.0.1:PORT -- URLS_FILE DONE_PREFIX T
--
-- URLS_FILE holds one path per line. Thread k of T takes lines k, k+T, k+2T, ...; its connections share
-- the thread's cursor, so every URL is asked for once in all. `delay` runs before each `request` and holds
-- back any connection once the thread's share is handed out (so no URL is requested twice and nothing extra is
-- timed). When a thread has all its answers it writes DONE_PREFIX.<k> (answers and non-200 count) and stops;
-- web_load.py waits for every thread's file, then interrupts wrk, whose `done` prints the latency summary.

local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end

local urls, n, next_url, reserved, answered, failures, done_file = {}, 0, 1, 0, 0, 0, nil

function init(args)
  local threads = tonumber(args[3]) or 1
  local k = 0
  for line in io.lines(args[1]) do
    if line ~= "" then
      if k % threads == tid then
        n = n + 1
        urls[n] = line
      end
      k = k + 1
    end
  end
  done_file = args[2] .. "." .. tid
  if n == 0 then
    local f = io.open(done_file, "w")
    f:write("0 0\n")
    f:close()
  end
end

function delay()
  if reserved < n then
    reserved = reserved + 1
    return 0
  end
  return 3600000 -- this connection has nothing left to ask: park it until wrk is stopped
end

function request()
  local path = urls[next_url]
  next_url = next_url + 1
  return wrk.format("GET", path, { ["Host"] = "127.0.0.1", ["Accept"] = "text/html" })
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then
    failures = failures + 1
  end
  if answered == n then
    local f = io.open(done_file, "w")
    f:write(answered .. " " .. failures .. "\n")
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format(
    "WRK requests=%d p50_us=%d p95_us=%d p99_us=%d max_us=%d errors_connect=%d errors_read=%d "
      .. "errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout
  ))
end
