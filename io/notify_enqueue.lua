-- Fan-out of a batch of events, each acknowledged first: an event someone
-- else acknowledged already (a server that took it over) makes no jobs.
-- Matched against subscriptions of version ARGV[6]: when the table has
-- changed since, nothing is done ({-1}) and the server reads it again
-- first. KEYS events, due, dead, subscriptions' version; ARGV prefix,
-- group, now, queue_max, dead_max, version, then per event: id, n, type,
-- level, at, hospitals, vi, en, data, n subscription ids.
-- {jobs made, jobs refused (queue full)}.
local prefix, group, now = ARGV[1], ARGV[2], ARGV[3]
local qmax, dmax = tonumber(ARGV[4]), tonumber(ARGV[5])
if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[6] then return {-1, 0} end
local i, jobs, refused = 7, 0, 0
while i <= #ARGV do
  local ev, ns = ARGV[i], tonumber(ARGV[i + 1])
  local fresh = redis.call('XACK', KEYS[1], group, ev) == 1
  for k = 1, ns do
    local sub = ARGV[i + 8 + k]
    local job = ev .. '|' .. sub
    local key = prefix .. 'notify:job:' .. job
    if fresh and redis.call('EXISTS', key) == 0 then
      if redis.call('ZCARD', KEYS[2]) >= qmax then
        redis.call('LPUSH', KEYS[3], cjson.encode({job = job, event = ev, type = ARGV[i + 2],
          subscription = sub, attempts = 0, first = tonumber(now), last = tonumber(now),
          error = 'the delivery queue is full (notify.queue_max)'}))
        redis.call('LTRIM', KEYS[3], 0, dmax - 1)
        refused = refused + 1
      else
        redis.call('HSET', key, 'ev', ev, 'sub', sub, 'type', ARGV[i + 2], 'level', ARGV[i + 3],
          'at', ARGV[i + 4], 'hospitals', ARGV[i + 5], 'vi', ARGV[i + 6], 'en', ARGV[i + 7],
          'data', ARGV[i + 8], 'attempts', '0', 'first', now)
        redis.call('ZADD', KEYS[2], now, job)
        jobs = jobs + 1
      end
    end
  end
  i = i + 9 + ns
end
return {jobs, refused}
