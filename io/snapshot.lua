-- BedPulse: the open incidents, read inside a server's snapshot MULTI so
-- that they are consistent with the hospitals, ambulances and the offset
-- read in the same transaction. Read only.
--
-- KEYS[1] incidents (zset)  open incident ids, score = when opened (ms)
-- ARGV[1] prefix of the incident hashes ("<prefix>inc:")
--
-- Returns {id1, {field, value, ...}, id2, {...}, ...}, oldest first. The
-- collector keeps at most stream.max_open_incidents ids in the set.

local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. id)
end
return out
