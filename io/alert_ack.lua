-- An acknowledgement with its audit row and event, once:
-- KEYS alerts, acks, audit, events; ARGV id, "by|ms", audit MINID, t,
-- actor, role, addr, then the event (type level at hospitals vi en data).
-- {1, value} done; {2, value} already acknowledged; {0} no such alert.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {0, ''} end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then
  return {2, redis.call('HGET', KEYS[2], ARGV[1])}
end
redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[3], '*', 't', ARGV[4], 'actor', ARGV[5],
           'role', ARGV[6], 'addr', ARGV[7], 'kind', 'alert', 'id', ARGV[1], 'action', 'ack')
redis.call('XADD', KEYS[4], 'MAXLEN', '~', '10000', '*', 'type', ARGV[8],
           'level', ARGV[9], 'at', ARGV[10], 'hospitals', ARGV[11], 'vi', ARGV[12],
           'en', ARGV[13], 'data', ARGV[14])
return {1, ARGV[2]}
