-- BedPulse: store a plausibility check a server derived from the stream
-- (server/writes.c bp_writes_save_checks; docs/protocol.md "Plausibility").
-- Every server derives the same check from the same events, so every one
-- may store it: the write is the same. It is stored only while the
-- hospital is still at the version it was derived at; a newer change means
-- the servers derive again. No event: the servers have it already.
--
-- KEYS[1] the hospital's hash    ARGV[1] the version it was derived at
-- ARGV[2] the check as JSON (bp_codec_write_check), or 'null': cleared
-- Returns 1 stored, 0 the hospital moved on.
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'chk', ARGV[2])
return 1
