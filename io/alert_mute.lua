-- A mute set (ARGV[2] = "by|until|at") or ended (ARGV[2] = ''), audited:
-- KEYS mutes, audit; ARGV rule, value, MINID, t, actor, role, addr,
-- minutes. 1 done, 0 nothing to end.
local action = 'mute'
if ARGV[2] == '' then
  if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
  action = 'unmute'
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
redis.call('XADD', KEYS[2], 'MINID', '~', ARGV[3], '*', 't', ARGV[4], 'actor', ARGV[5],
           'role', ARGV[6], 'addr', ARGV[7], 'kind', 'alert_rule', 'id', ARGV[1],
           'action', action, 'after', ARGV[8])
return 1
