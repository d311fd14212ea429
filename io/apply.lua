-- BedPulse apply script: accepts one validated change atomically.
--
-- KEYS[1] epoch      (string)  random id of this stream's lifetime
-- KEYS[2] offset     (string)  global change counter (INCR)
-- KEYS[3] stream     (stream)  change events, ID <offset>-0, MAXLEN ~
-- KEYS[4] entities   (hash)    entity id -> stored JSON (times in ms)
-- KEYS[5] sources    (hash)    source -> "<last seq> <offset>"
-- ARGV[1] kind ("hospital" | "ambulance")   ARGV[2] entity id
-- ARGV[3] source      ARGV[4] seq (-1: no idempotency check)
-- ARGV[5] patch JSON (validated by the caller; only the fields present)
-- ARGV[6] base JSON (the entity's state before its first report)
-- ARGV[7] epoch candidate (used when there is no epoch yet)
-- ARGV[8] stream MAXLEN (approximate)
-- ARGV[9] expected version ("" = any)      ARGV[10] now, ms
--
-- Returns one of
--   {"ok", offset, epoch, version}
--   {"dup", offset, epoch, last_seq}   seq already applied for this source
--   {"conflict", version, stored JSON} expected version did not match
--   {"out_of_order", stored at}        the report is older than the stored one
-- Nothing is written unless the result is "ok".

local kind, id, source = ARGV[1], ARGV[2], ARGV[3]
local seq = tonumber(ARGV[4])

local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[1], epoch)
elseif redis.call('EXISTS', KEYS[3]) == 0 and redis.call('EXISTS', KEYS[2]) == 1 then
  -- The stream is gone but offsets survive: nobody can resume from it, so a
  -- new epoch tells every server and client to take a fresh snapshot.
  epoch = ARGV[7]
  redis.call('SET', KEYS[1], epoch)
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

local stored = redis.call('HGET', KEYS[4], id)
local st = cjson.decode(stored or ARGV[6])
local patch = cjson.decode(ARGV[5])

if ARGV[9] ~= '' and tonumber(ARGV[9]) ~= st.version then
  return {'conflict', st.version, stored or ARGV[6]}
end
if st.at and patch.at < st.at then
  return {'out_of_order', st.at}
end

local ev = {}
if kind == 'hospital' then
  if patch.beds then
    ev.beds = {}
    st.beds = st.beds or {}
    for t, b in pairs(patch.beds) do
      local cur = st.beds[t] or {}
      for f, v in pairs(b) do cur[f] = v end
      st.beds[t] = cur
      ev.beds[t] = cur
    end
  end
  if patch.ed then
    st.ed = patch.ed
    ev.ed = patch.ed
  end
else
  for f, v in pairs(patch) do
    if f ~= 'at' then
      st[f] = v
      ev[f] = v
    end
  end
end

local now = tonumber(ARGV[10])
st.version = st.version + 1
st.at = patch.at
st.updated = now
st.source = source
ev.version, ev.at, ev.updated, ev.source = st.version, st.at, now, source

local offset = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], offset .. '-0',
           'k', kind, 'i', id, 'd', cjson.encode(ev))
redis.call('HSET', KEYS[4], id, cjson.encode(st))
if seq >= 0 then
  redis.call('HSET', KEYS[5], source, ARGV[4] .. ' ' .. offset)
end
return {'ok', offset, epoch, st.version}
