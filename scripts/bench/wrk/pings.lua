-- wrk script of scripts/bench/run.sh: the same requests go to `kiothc serve` and to the bare
-- route. Arguments (after `--`): MODE PATHS_FILE
--   get   GET each path of PATHS_FILE in turn (one path: one check; 1,000: spread)
--   post  POST a 1 KB text body to each path in turn
--   pair  start+success pairs: GET <path>/start?rid=R, then GET <path>?rid=R, R a fresh UUID
-- done() prints one line "RESULT {json}" with the counts and latency percentiles (µs).
local mode, paths, body
-- As curl sends it: the server stores the User-Agent of every ping.
local get_headers = { ["User-Agent"] = "curl/8.5.0" }
local post_headers = { ["User-Agent"] = "curl/8.5.0", ["Content-Type"] = "text/plain" }
local counter = 0

local threads = {}
function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    mode = args[1]
    paths = {}
    local file = assert(io.open(args[2], "r"))
    for line in file:lines() do
        if #line > 0 then paths[#paths + 1] = line end
    end
    file:close()
    assert(#paths > 0, "no paths in " .. args[2])
    -- Threads start at different checks so they do not move in lock-step.
    counter = (id or 0) * 7919
    body = string.rep("0123456789abcdef", 64)  -- 1,024 bytes
end

function request()
    local c = counter
    counter = counter + 1
    if mode == "get" then
        return wrk.format("GET", paths[(c % #paths) + 1], get_headers)
    elseif mode == "post" then
        return wrk.format("POST", paths[(c % #paths) + 1], post_headers, body)
    elseif mode == "pair" then
        local pair = math.floor(c / 2)
        local path = paths[(pair % #paths) + 1]
        local rid = string.format("00000000-0000-4000-8%03d-%012d", id or 0, pair % 1000000000000)
        if c % 2 == 0 then
            return wrk.format("GET", path .. "/start?rid=" .. rid, get_headers)
        end
        return wrk.format("GET", path .. "?rid=" .. rid, get_headers)
    end
    error("unknown mode " .. tostring(mode))
end

function done(summary, latency, requests)
    io.write(string.format(
        'RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
        '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
        summary.requests, summary.duration, summary.bytes, summary.errors.connect, summary.errors.read,
        summary.errors.write, summary.errors.status, summary.errors.timeout,
        latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
