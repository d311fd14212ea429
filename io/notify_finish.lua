-- The end of one attempt. KEYS due, dead; ARGV prefix, job, ok|retry|dead,
-- next due, dead letter json, dead_max, error.
local key = ARGV[1] .. 'notify:job:' .. ARGV[2]
if ARGV[3] == 'ok' then
  redis.call('ZREM', KEYS[1], ARGV[2]); redis.call('DEL', key)
elseif ARGV[3] == 'retry' then
  if redis.call('EXISTS', key) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[4], ARGV[2]); redis.call('HSET', key, 'error', ARGV[7])
  end
else
  redis.call('ZREM', KEYS[1], ARGV[2]); redis.call('DEL', key)
  redis.call('LPUSH', KEYS[2], ARGV[5]); redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
end
return 1
