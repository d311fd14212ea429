-- Claims up to n due jobs for lease_ms, within rate deliveries per
-- subscription and minute (the rest wait for the next minute); jobs of a
-- subscription that is gone are dropped. KEYS due, subs; ARGV prefix, now,
-- n, lease_ms, rate. {{job, fields, subscription json}..}.
local prefix, now, want = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local lease, rate = tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
for _, job in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, want * 4)) do
  if #out >= want then break end
  local key = prefix .. 'notify:job:' .. job
  local sub = redis.call('HGET', key, 'sub')
  local sj = sub and redis.call('HGET', KEYS[2], sub)
  if not sub then
    redis.call('ZREM', KEYS[1], job)
  elseif not sj then
    redis.call('ZREM', KEYS[1], job)
    redis.call('DEL', key)
  else
    local minute = math.floor(now / 60000)
    local rk = prefix .. 'notify:rate:' .. sub .. ':' .. minute
    local c = redis.call('INCR', rk)
    if c == 1 then redis.call('PEXPIRE', rk, 120000) end
    if c > rate then
      redis.call('ZADD', KEYS[1], (minute + 1) * 60000, job)
    else
      redis.call('ZADD', KEYS[1], now + lease, job)
      redis.call('HINCRBY', key, 'attempts', 1)
      out[#out + 1] = {job, redis.call('HGETALL', key), sj}
    end
  end
end
return out
