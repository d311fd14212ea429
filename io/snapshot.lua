#!lua flags=no-writes
-- BedPulse: a server's snapshot, read in one step so that the hospitals,
-- the ambulances, the open incidents, the offset and the recent history
-- are all of one moment.
--
-- Read only (flags=no-writes): Redis runs it even while it refuses writes
-- (maxmemory reached with noeviction, min-replicas-to-write not met) or is
-- a replica, so a server can load whenever Redis can be read. (A MULTI did
-- this before; Redis refuses every command queued in one when it is out of
-- memory, and its SET NX of the epoch aborted it when writes were refused.)
--
-- KEYS[1] epoch (string)   KEYS[2] offset (string)   KEYS[3] stream
-- KEYS[4] incidents (zset) open incident ids, score = when opened (ms)
-- KEYS[5 ..] the hash of each registry hospital, then of each ambulance
-- ARGV[1] prefix of the incident hashes ("<prefix>inc:")
-- ARGV[2] how many of the newest stream entries to return
-- ARGV[3] the id of the entry at the offset this server read before
--         ("<offset>-0"; "0-0" on a first load)
--
-- Returns {epoch | nil, offset | nil, {HGETALL of each KEYS[5 ..]},
--          {id1, {field, value, ...}, id2, ...} (open incidents, oldest
--          first), XREVRANGE stream + - COUNT ARGV[2],
--          XRANGE stream ARGV[3] ARGV[3]} (the last to see a failover that
--          rewrote the history read before: server/reader.h).
-- Incident ids come from the CAD, not the registry, so their keys are
-- built here from the prefix (which a Redis Cluster would not allow:
-- BedPulse uses one Redis, with Sentinel). The collector keeps at most
-- stream.max_open_incidents ids in the set.

local hashes = {}
for i = 5, #KEYS do
  hashes[#hashes + 1] = redis.call('HGETALL', KEYS[i])
end
local incidents = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[4], 0, -1)) do
  incidents[#incidents + 1] = id
  incidents[#incidents + 1] = redis.call('HGETALL', ARGV[1] .. id)
end
return {redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]), hashes, incidents,
        redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', ARGV[2]),
        redis.call('XRANGE', KEYS[3], ARGV[3], ARGV[3])}
