-- Applies a plan. ARGV[1] the version it was planned from ('' when it has
-- no alert change), ARGV[2] "<epoch> <offset>" of the planner's state,
-- ARGV[3] its time, then operations:
--   A id json | D id | R n           alert records, acknowledgements, the
--                                    raised counter: only when the version
--                                    still matches (then it is bumped)
--   O field old new                  an observation, compare-and-set
--   M id | G id                      an MCI seen open / seen closed
--   I                                observations initialised
--   E gate type level at hospitals vi en data
--                                    an event, appended when operation
--                                    number `gate` took effect
-- A, D, R and O need the planner not to be behind the last one: its
-- offset (same epoch) not lower, or the same offset and not an earlier
-- time. Returns {alerts applied 0/1, new version, clock ok 0/1, events}.
local clock_ok = true
local cur = redis.call('GET', KEYS[3])
if cur then
  local e, o, t = string.match(cur, '^(%S+) (%d+) (%d+)$')
  local me, mo = string.match(ARGV[2], '^(%S+) (%d+)$')
  if e == me and (tonumber(mo) < tonumber(o) or
      (tonumber(mo) == tonumber(o) and tonumber(ARGV[3]) < tonumber(t))) then
    clock_ok = false
  end
end
local ver_ok = false
local ver = redis.call('GET', KEYS[2]) or '0'
if clock_ok then
  redis.call('SET', KEYS[3], ARGV[2] .. ' ' .. ARGV[3])
  if ARGV[1] ~= '' and ver == ARGV[1] then
    ver_ok = true
    ver = tostring(redis.call('INCR', KEYS[2]))
  end
end
local ok, n, i, events = {}, 0, 4, 0
while i <= #ARGV do
  local op = ARGV[i]
  n = n + 1
  if op == 'A' then
    if ver_ok then redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[i + 2]) end
    ok[n] = ver_ok; i = i + 3
  elseif op == 'D' then
    if ver_ok then
      redis.call('HDEL', KEYS[1], ARGV[i + 1]); redis.call('HDEL', KEYS[4], ARGV[i + 1])
    end
    ok[n] = ver_ok; i = i + 2
  elseif op == 'R' then
    if ver_ok then redis.call('INCRBY', KEYS[6], ARGV[i + 1]) end
    ok[n] = ver_ok; i = i + 2
  elseif op == 'O' then
    local done = false
    if clock_ok and (redis.call('HGET', KEYS[7], ARGV[i + 1]) or '') == ARGV[i + 2] then
      redis.call('HSET', KEYS[7], ARGV[i + 1], ARGV[i + 3]); done = true
    end
    ok[n] = done; i = i + 4
  elseif op == 'M' then ok[n] = redis.call('SADD', KEYS[9], ARGV[i + 1]) == 1; i = i + 2
  elseif op == 'G' then ok[n] = redis.call('SREM', KEYS[9], ARGV[i + 1]) == 1; i = i + 2
  elseif op == 'I' then redis.call('SET', KEYS[10], '1'); ok[n] = true; i = i + 1
  elseif op == 'E' then
    local g = tonumber(ARGV[i + 1])
    if ok[g] then
      redis.call('XADD', KEYS[11], 'MAXLEN', '~', '10000', '*', 'type', ARGV[i + 2],
                 'level', ARGV[i + 3], 'at', ARGV[i + 4], 'hospitals', ARGV[i + 5],
                 'vi', ARGV[i + 6], 'en', ARGV[i + 7], 'data', ARGV[i + 8])
      events = events + 1
    end
    ok[n] = ok[g]; i = i + 9
  else
    return redis.error_reply('unknown operation ' .. tostring(op))
  end
end
return {ver_ok and 1 or 0, ver, clock_ok and 1 or 0, events}
