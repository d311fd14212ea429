-- BedPulse: store a plausibility check a server derived from the stream
-- or, after a start, from the hash's "pre" (server/writes.c
-- bp_writes_save_checks; docs/protocol.md "Plausibility").
-- Every server derives the same check from the same events; the first to
-- get here stores it, once per version: "ckv" holds the version a check
-- was last stored at (here or by apply.lua), and the others find it
-- there. It is stored only while the hospital is still at the version it
-- was derived at; a newer change means the servers derive again. No event:
-- the servers have it already.
--
-- KEYS[1] the hospital's hash    ARGV[1] the version it was derived at
-- ARGV[2] the check as JSON (bp_codec_write_check), or 'null': cleared
-- Returns 1 stored, 0 the hospital moved on, 2 already stored at it.
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
local ckv = tonumber(redis.call('HGET', KEYS[1], 'ckv') or '0') or 0
if ckv >= tonumber(ARGV[1]) then return 2 end
redis.call('HSET', KEYS[1], 'chk', ARGV[2], 'ckv', ARGV[1])
return 1
