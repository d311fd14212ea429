-- A subscription ended by its owner or an admin, audited. KEYS subs,
-- count, ver, audit; ARGV id, who, admin 0/1, MINID, t, actor, role, addr.
-- 1 done; 0 no such subscription of theirs.
local j = redis.call('HGET', KEYS[1], ARGV[1])
if not j then return 0 end
local owner = cjson.decode(j).owner
if ARGV[3] ~= '1' and owner ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HINCRBY', KEYS[2], owner, -1) <= 0 then redis.call('HDEL', KEYS[2], owner) end
redis.call('INCR', KEYS[3])
redis.call('XADD', KEYS[4], 'MINID', '~', ARGV[4], '*', 't', ARGV[5], 'actor', ARGV[6],
           'role', ARGV[7], 'addr', ARGV[8], 'kind', 'subscription', 'id', ARGV[1],
           'action', 'delete')
return 1
