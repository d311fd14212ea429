-- BedPulse apply script: accepts one validated change atomically.
--
-- No JSON is parsed or encoded here (cjson cost more than everything else
-- together): entities live in hashes of plain fields, and the event is
-- assembled from pieces the caller has already validated and encoded.
--
-- KEYS[1] epoch    (string)  random id of this stream's lifetime
-- KEYS[2] offset   (string)  global change counter (INCR)
-- KEYS[3] stream   (stream)  change events, ID <offset>-0, MAXLEN ~
-- KEYS[4] entity   (hash)    this entity: v at up src + its own fields
-- KEYS[5] sources  (hash)    source -> "<last seq> <offset>"
--
-- ARGV[1] kind ("hospital" | "ambulance")   ARGV[2] entity id
-- ARGV[3] source ([A-Za-z0-9._:-], needs no JSON escaping)
-- ARGV[4] seq (-1: no idempotency check)     ARGV[5] at, ms
-- ARGV[6] now, ms                            ARGV[7] epoch candidate
-- ARGV[8] stream MAXLEN (approximate)        ARGV[9] expected version ("" = any)
-- hospital:
--   ARGV[10] ED as JSON ("" = unchanged)     ARGV[11] K, bed types changed
--   then per bed type 6 values: name, staffed, occupied, surge24 ("" = not
--   in this change), baseline staffed, baseline surge24 ("" = none)
-- ambulance:
--   ARGV[10] the changed fields as a JSON fragment ('"status":"...",...')
--   ARGV[11] N, then N field/value pairs for the hash
--
-- Returns one of
--   {"ok", offset, epoch, version}
--   {"dup", offset, epoch, last_seq}   seq already applied for this source
--   {"conflict", version}              expected version did not match
--   {"out_of_order", stored at}        the report is older than the stored one
-- Nothing is written unless the result is "ok".

local kind, source, seq = ARGV[1], ARGV[3], tonumber(ARGV[4])
local at, now = ARGV[5], ARGV[6]
local key = KEYS[4]

local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[1], epoch)
elseif redis.call('EXISTS', KEYS[2], KEYS[3]) == 1 then
  -- The stream or the offset is gone while the other survives: nobody can
  -- resume across that, so a new epoch tells every server and client to
  -- take a fresh snapshot.
  epoch = ARGV[7]
  redis.call('SET', KEYS[1], epoch)
  redis.call('DEL', KEYS[3])
end

if seq >= 0 then
  local last = redis.call('HGET', KEYS[5], source)
  if last then
    local lseq, loff = string.match(last, '^(%d+) (%d+)$')
    if lseq and tonumber(lseq) >= seq then
      return {'dup', tonumber(loff), epoch, tonumber(lseq)}
    end
  end
end

-- version, at, and (hospitals) the current numbers of the bed types changed
local want = {'v', 'at'}
local k = 0
if kind == 'hospital' then
  k = tonumber(ARGV[11])
  for i = 0, k - 1 do
    local t = ARGV[12 + i * 6]
    want[#want + 1] = t .. '.s'
    want[#want + 1] = t .. '.o'
    want[#want + 1] = t .. '.g'
  end
end
local cur = redis.call('HMGET', key, unpack(want))
local version = tonumber(cur[1] or '0')
if ARGV[9] ~= '' and tonumber(ARGV[9]) ~= version then
  return {'conflict', version}
end
if cur[2] and tonumber(at) < tonumber(cur[2]) then
  return {'out_of_order', tonumber(cur[2])}
end
version = version + 1

local set = {'HSET', key, 'v', version, 'at', at, 'up', now, 'src', source}
local head = '{"version":' .. version .. ',"at":' .. at .. ',"updated":' .. now ..
             ',"source":"' .. source .. '"'
local ev
if kind == 'hospital' then
  -- merge: a number in the change wins, else the stored one, else (staffed
  -- and surge only) the registry baseline
  local beds = {}
  for i = 0, k - 1 do
    local b = 12 + i * 6
    local t = ARGV[b]
    local s = ARGV[b + 1] ~= '' and ARGV[b + 1] or cur[3 + i * 3] or
              (ARGV[b + 4] ~= '' and ARGV[b + 4] or false)
    local o = ARGV[b + 2] ~= '' and ARGV[b + 2] or cur[4 + i * 3]
    local g = ARGV[b + 3] ~= '' and ARGV[b + 3] or cur[5 + i * 3] or
              (ARGV[b + 5] ~= '' and ARGV[b + 5] or false)
    local e = {}
    if s then
      set[#set + 1] = t .. '.s'; set[#set + 1] = s
      e[#e + 1] = '"staffed":' .. s
    end
    if o then
      set[#set + 1] = t .. '.o'; set[#set + 1] = o
      e[#e + 1] = '"occupied":' .. o
    end
    if g then
      set[#set + 1] = t .. '.g'; set[#set + 1] = g
      e[#e + 1] = '"surge24":' .. g
    end
    beds[#beds + 1] = '"' .. t .. '":{' .. table.concat(e, ',') .. '}'
  end
  ev = head
  if k > 0 then ev = ev .. ',"beds":{' .. table.concat(beds, ',') .. '}' end
  if ARGV[10] ~= '' then
    set[#set + 1] = 'ed'; set[#set + 1] = ARGV[10]
    ev = ev .. ',"ed":' .. ARGV[10]
  end
  ev = ev .. '}'
else
  local n = tonumber(ARGV[11])
  for i = 12, 11 + n * 2 do set[#set + 1] = ARGV[i] end
  ev = head
  if ARGV[10] ~= '' then ev = ev .. ',' .. ARGV[10] end
  ev = ev .. '}'
end
redis.call(unpack(set))

local offset = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], offset .. '-0',
           'k', kind, 'i', ARGV[2], 'd', ev)
if seq >= 0 then
  redis.call('HSET', KEYS[5], source, ARGV[4] .. ' ' .. offset)
end
return {'ok', offset, epoch, version}
