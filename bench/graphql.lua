-- wrk script: POSTs one GraphQL body (read from the file named by BENCH_BODY) with an optional bearer token.
-- BENCH_TOKENS is a comma-separated list; thread i sends token i (modulo their number), so running wrk with
-- as many threads as connections gives each connection its own user.
-- Every answer is looked at: non-200 statuses, answers carrying "errors" (counted per extensions.code) and
-- answers mentioning "database is locked". done() prints one line: BENCH_JSON {...}.

local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = token
end
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  if #tokens > 0 then
    thread:set("token", tokens[((#threads - 1) % #tokens) + 1])
  end
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
  local body = file:read("*a")
  file:close()
  local headers = { ["Content-Type"] = "application/json" }
  if token then
    headers["Authorization"] = "Bearer " .. token
  end
  prepared = wrk.format("POST", nil, headers, body)
  answers, not_ok, with_errors, locked = 0, 0, 0, 0
  codes = {}
end

function request()
  return prepared
end

function response(status, headers, body)
  answers = answers + 1
  if status ~= 200 then
    not_ok = not_ok + 1
  end
  if string.find(body, '"errors"', 1, true) then
    with_errors = with_errors + 1
    local found = false
    for code in string.gmatch(body, '"code"%s*:%s*"([%w_]+)"') do
      codes[code] = (codes[code] or 0) + 1
      found = true
    end
    if not found then
      codes["NO_CODE"] = (codes["NO_CODE"] or 0) + 1
    end
  end
  if string.find(body, "database is locked", 1, true) then
    locked = locked + 1
  end
end

function done(summary, latency, requests)
  local total = { answers = 0, not_ok = 0, with_errors = 0, locked = 0 }
  local all_codes = {}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(total) do
      total[name] = total[name] + (thread:get(name) or 0)
    end
    for code, count in pairs(thread:get("codes") or {}) do
      all_codes[code] = (all_codes[code] or 0) + count
    end
  end
  local parts = {}
  for code, count in pairs(all_codes) do
    parts[#parts + 1] = string.format('"%s": %d', code, count)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "answers": %d, "not_ok": %d, "with_errors": %d, '
      .. '"locked": %d, "codes": {%s}, "socket_errors": {"connect": %d, "read": %d, "write": %d, '
      .. '"status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %f}}\n',
    summary.requests, summary.duration, total.answers, total.not_ok, total.with_errors, total.locked,
    table.concat(parts, ", "), e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean
  ))
end
