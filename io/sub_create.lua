-- A subscription made, within the bounds, audited. KEYS subs, count,
-- ver, audit; ARGV id, owner, stored json, per person, total, MINID, t,
-- actor, role, addr, public json. 1 made; -1 the person has the most;
-- -2 the server has the most; -3 the id is taken.
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[5]) then return -2 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0') >= tonumber(ARGV[4]) then return -1 end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[3]) == 0 then return -3 end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[6], '*', 't', ARGV[7], 'actor', ARGV[8],
           'role', ARGV[9], 'addr', ARGV[10], 'kind', 'subscription', 'id', ARGV[1],
           'action', 'create', 'after', ARGV[11])
return 1
