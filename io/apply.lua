-- BedPulse apply script: accepts one validated change atomically.
--
-- No JSON is parsed or encoded here (cjson cost more than everything else
-- together): entities live in hashes of plain fields, and the event is
-- assembled from pieces the caller has already validated and encoded.
--
-- Its twin in C is core/bp_codec_stored.c, the only C file that knows the
-- stored field names: it writes the event fragments and hash field/value
-- pairs passed here (bp_codec_write_*, bp_codec_stored_pairs) and reads back
-- what this script stores (bp_codec_parse_stored, bp_codec_parse_hash).
-- Change one, change the other.
--
-- KEYS[1] epoch    (string)  random id of this stream's lifetime
-- KEYS[2] offset   (string)  global change counter (INCR)
-- KEYS[3] stream   (stream)  change events, ID <offset>-0, MAXLEN ~
-- KEYS[4] entity   (hash)    this entity: v at up src + its own fields
-- KEYS[5] sources  (hash)    source -> "<last seq> <offset>"
-- KEYS[6] audit    (stream)  who changed what, before and after
-- KEYS[7] incidents (zset)   open incident ids, score = opened (ms)
-- KEYS[8] decided  (hash)    source -> the highest seq this script decided
--                            without applying it (out_of_order, refused,
--                            conflict); with KEYS[5], what it has decided
--
-- ARGV[1] kind ("hospital" | "ambulance" | "incident")   ARGV[2] entity id
-- ARGV[3] source ([A-Za-z0-9._:-], needs no JSON escaping)
-- ARGV[4] seq (-1: no idempotency check)     ARGV[5] at, ms
-- ARGV[6] now, ms                            ARGV[7] epoch candidate
-- ARGV[8] stream MAXLEN (approximate)        ARGV[9] expected version ("" = any)
-- ARGV[10] actor (token id or source)        ARGV[11] role
-- ARGV[12] address of the sender             ARGV[13] audit MINID ("" = not audited)
-- ARGV[14] prev: the seq of the line of this source sent before this one
--          on the same connection and not answered yet ("" = none)
-- hospital:
--   ARGV[15] ED as JSON ("" = unchanged)     ARGV[16] K, bed types changed
--   then per bed type 10 values: name, staffed, occupied, surge24 ("" = not
--   in this change), baseline staffed, baseline surge24 ("" = none), then
--   the intensive-care detail: ventilated total, free, ECMO total, free
--   ("" = not in this change; a pair comes whole), stored as <type>.vt,
--   .vf, .et, .ef as the figures are as <type>.s, .o, .g;
--   then M, and M pairs: hash field, JSON: a service changed
--   ("svc.<service>", '{"status":"unavailable","reason":..,"until":ms}') or
--   the facility ("fac", '{"status":"compromised","power":"generator",..}')
--   or the plausibility check ("chk": 'null', a manager clears it; a
--   derived one is stored by check_store.lua; either sets "ckv", the
--   version it was stored at). A bed type whose occupied the change sets
--   gets <type>.oa = at, and the hash "pre" = {"v","at","src","beds":
--   {<type>:{"s":1 if it sets staffed,"o","oa" if it sets occupied}}}:
--   this report with bed figures and the occupied figures it replaced, from which a server that starts later derives the check
--   when no server stored one since (ckv < pre.v).
-- ambulance and incident:
--   ARGV[15] the changed fields as a JSON fragment ('"status":"...",...')
--   ARGV[16] N, then N field/value pairs for the hash
-- incident, after the pairs: the action (create | update | close), the most
--   open incidents allowed, seconds a closed incident's hash is kept
--
-- Returns one of
--   {"ok", offset, epoch, version}
--   {"dup", offset, epoch, last_seq}   seq already applied for this source
--   {"behind", prev}                   the line sent before this one (prev)
--                                      was never decided (Redis refused its
--                                      script): this one must not overtake it
--   {"conflict", version}              expected version did not match
--   {"out_of_order", stored at}        the report is older than the stored one
--   {"refused", code, field, message}  an incident rule: exists,
--                                      unknown_incident, too_many_incidents
-- Nothing is written unless the result is "ok", except the seq of a line
-- decided without being applied (out_of_order, refused, conflict) in
-- KEYS[8]: that write is what lets the line after it through.

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

local applied = -1 -- the source's last applied seq
if seq >= 0 then
  local last = redis.call('HGET', KEYS[5], source)
  if last then
    local lseq, loff = string.match(last, '^(%d+) (%d+)$')
    if lseq then applied = tonumber(lseq) end
    if lseq and applied >= seq then
      return {'dup', tonumber(loff), epoch, applied}
    end
  end
  -- No overtaking: the line sent before this one on its connection (prev)
  -- must have been decided, else Redis refused it (OOM, NOREPLICAS: before
  -- the script ran) and applying this one would make its resend a false
  -- duplicate. Decided: applied (KEYS[5]) or answered otherwise (KEYS[8]).
  local prev = tonumber(ARGV[14])
  if prev and prev >= 0 and applied < prev then
    local d = tonumber(redis.call('HGET', KEYS[8], source) or '-1')
    if not d or d < prev then return {'behind', prev} end
  end
end

-- A line decided without being applied: recorded (the highest seq), so the
-- line sent after it may apply; then the answer.
local function decided(answer)
  if seq >= 0 then
    local d = tonumber(redis.call('HGET', KEYS[8], source) or '-1')
    if not d or d < seq then redis.call('HSET', KEYS[8], source, ARGV[4]) end
  end
  return answer
end

local P = 17 -- first of the per-kind values
local audit = ARGV[13] ~= ''
local k = tonumber(ARGV[16])

-- incidents: what the stored state allows (the CAD cannot know it)
local action
if kind == 'incident' then
  action = ARGV[P + k * 2]
  local id = ARGV[2]
  local open = redis.call('ZSCORE', KEYS[7], id)
  if action == 'create' then
    if open then
      return decided({'refused', 'exists', 'id',
              'incident ' .. id .. ' is already open; send "action":"update" to change it'})
    end
    local n = redis.call('ZCARD', KEYS[7])
    if n >= tonumber(ARGV[P + k * 2 + 1]) then
      return decided({'refused', 'too_many_incidents', 'id',
              n .. ' incidents are open, the most allowed (stream.max_open_incidents); ' ..
              'close some first'})
    end
  elseif not open then
    return decided({'refused', 'unknown_incident', 'id',
            'no open incident ' .. id .. ' (never created, or closed); send "action":"create"'})
  end
end

-- version, at, and what the change will overwrite: the numbers of the bed
-- types changed (and the ED), or the ambulance / incident fields changed
local want = {'v', 'at'}
-- a bed type's hash fields, in the order of cur: the figures, then the
-- intensive-care detail (ventilated total, free; ECMO total, free), then
-- when its occupied figure was reported (the report's at)
local BED_FIELDS = {'s', 'o', 'g', 'vt', 'vf', 'et', 'ef', 'oa'}
local S, m, ed_i, svc_i = P + k * 10, 0, nil, nil -- hospital: the services' place
if kind == 'hospital' then
  for i = 0, k - 1 do
    local t = ARGV[P + i * 10]
    for _, f in ipairs(BED_FIELDS) do want[#want + 1] = t .. '.' .. f end
  end
  if audit and ARGV[15] ~= '' then want[#want + 1] = 'ed'; ed_i = #want end
  m = tonumber(ARGV[S] or '0') or 0
  svc_i = #want + 1
  if audit then
    for j = 0, m - 1 do want[#want + 1] = ARGV[S + 1 + j * 2] end
  end
else
  for i = 0, k - 1 do want[#want + 1] = ARGV[P + i * 2] end
end
local cur = redis.call('HMGET', key, unpack(want))
local version = tonumber(cur[1] or '0')
if ARGV[9] ~= '' and tonumber(ARGV[9]) ~= version then
  return decided({'conflict', version})
end
if cur[2] and tonumber(at) < tonumber(cur[2]) then
  return decided({'out_of_order', tonumber(cur[2])})
end
version = version + 1

local set = {'HSET', key, 'v', version, 'at', at, 'up', now, 'src', source}
local head = '{"version":' .. version .. ',"at":' .. at .. ',"updated":' .. now ..
             ',"source":"' .. source .. '"'
local ev, before, after
if kind == 'hospital' then
  -- merge: a number in the change wins, else the stored one, else (staffed
  -- and surge only) the registry baseline
  local beds, was, pre = {}, {}, {}
  -- the detail as JSON ('"ventilated":{"total":N,"free":M}'), nil if unknown
  local function pair(name, tot, free)
    if not tot or not free then return nil end
    return '"' .. name .. '":{"total":' .. tot .. ',"free":' .. free .. '}'
  end
  for i = 0, k - 1 do
    local b, c = P + i * 10, 3 + i * #BED_FIELDS
    local t = ARGV[b]
    local s = ARGV[b + 1] ~= '' and ARGV[b + 1] or cur[c] or
              (ARGV[b + 4] ~= '' and ARGV[b + 4] or false)
    local o = ARGV[b + 2] ~= '' and ARGV[b + 2] or cur[c + 1]
    local g = ARGV[b + 3] ~= '' and ARGV[b + 3] or cur[c + 2] or
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
    -- the plausibility check's inputs, read back by a server that starts
    -- after the report (no server may have derived its check): whether it
    -- sets staffed, and when it sets occupied, what that replaced
    local p = {}
    if ARGV[b + 1] ~= '' then p[#p + 1] = '"s":1' end
    if ARGV[b + 2] ~= '' then
      set[#set + 1] = t .. '.oa'; set[#set + 1] = at
      p[#p + 1] = '"o":' .. (cur[c + 1] or 'null') .. ',"oa":' .. (cur[c + 7] or 'null')
    end
    pre[#pre + 1] = '"' .. t .. '":{' .. table.concat(p, ',') .. '}'
    if g then
      set[#set + 1] = t .. '.g'; set[#set + 1] = g
      e[#e + 1] = '"surge24":' .. g
    end
    -- the detail: a pair in the change wins whole, else the stored one
    local d = {}
    for j = 0, 3 do
      local v = ARGV[b + 6 + j]
      if v ~= '' then
        set[#set + 1] = t .. '.' .. BED_FIELDS[4 + j]; set[#set + 1] = v
        d[j] = v
      else
        d[j] = cur[c + 3 + j]
      end
    end
    e[#e + 1] = pair('ventilated', d[0], d[1])
    e[#e + 1] = pair('ecmo', d[2], d[3])
    beds[#beds + 1] = '"' .. t .. '":{' .. table.concat(e, ',') .. '}'
    if audit then
      local w = {}
      if cur[c] then w[#w + 1] = '"staffed":' .. cur[c] end
      if cur[c + 1] then w[#w + 1] = '"occupied":' .. cur[c + 1] end
      if cur[c + 2] then w[#w + 1] = '"surge24":' .. cur[c + 2] end
      w[#w + 1] = pair('ventilated', cur[c + 3], cur[c + 4])
      w[#w + 1] = pair('ecmo', cur[c + 5], cur[c + 6])
      was[#was + 1] = '"' .. t .. '":{' .. table.concat(w, ',') .. '}'
    end
  end
  ev = head
  local bedsj = '{' .. table.concat(beds, ',') .. '}'
  if k > 0 then ev = ev .. ',"beds":' .. bedsj end
  if ARGV[15] ~= '' then
    set[#set + 1] = 'ed'; set[#set + 1] = ARGV[15]
    ev = ev .. ',"ed":' .. ARGV[15]
  end
  -- services and the facility: each replaced whole (field -> its JSON)
  local svcs, svcw, fac, facw, chk, chkw = {}, {}, nil, nil, nil, nil
  for j = 0, m - 1 do
    local f, sv = ARGV[S + 1 + j * 2], ARGV[S + 2 + j * 2]
    set[#set + 1] = f; set[#set + 1] = sv
    if f == 'fac' then
      fac, facw = sv, cur[svc_i + j] or 'null'
    elseif f == 'chk' then
      chk, chkw = sv, cur[svc_i + j] or 'null'
    else
      svcs[#svcs + 1] = '"' .. string.sub(f, 5) .. '":' .. sv
      if audit then
        svcw[#svcw + 1] = '"' .. string.sub(f, 5) .. '":' .. (cur[svc_i + j] or 'null')
      end
    end
  end
  local svcj = '{' .. table.concat(svcs, ',') .. '}'
  if #svcs > 0 then ev = ev .. ',"services":' .. svcj end
  if fac then ev = ev .. ',"facility":' .. fac end
  if chk then
    ev = ev .. ',"check":' .. chk
    set[#set + 1] = 'ckv'; set[#set + 1] = version -- a check stored at this version
  end
  if #pre > 0 then
    set[#set + 1] = 'pre'
    set[#set + 1] = '{"v":' .. version .. ',"at":' .. at .. ',"src":"' .. source ..
                    '","beds":{' .. table.concat(pre, ',') .. '}}'
  end
  ev = ev .. '}'
  if audit then
    before = '{"beds":{' .. table.concat(was, ',') .. '}'
    after = '{"beds":' .. bedsj
    if ARGV[15] ~= '' then
      before = before .. ',"ed":' .. (cur[ed_i] or 'null')
      after = after .. ',"ed":' .. ARGV[15]
    end
    if #svcs > 0 then
      before = before .. ',"services":{' .. table.concat(svcw, ',') .. '}'
      after = after .. ',"services":' .. svcj
    end
    if fac then
      before = before .. ',"facility":' .. facw
      after = after .. ',"facility":' .. fac
    end
    if chk then
      before = before .. ',"check":' .. chkw
      after = after .. ',"check":' .. chk
    end
    before = before .. '}'
    after = after .. '}'
  end
else
  for i = P, P - 1 + k * 2 do set[#set + 1] = ARGV[i] end
  ev = head
  if ARGV[15] ~= '' then ev = ev .. ',' .. ARGV[15] end
  ev = ev .. '}'
  if audit then
    -- the old values, as JSON: numbers bare, text quoted and escaped
    local names = {dest = 'destination', inc = 'incident', act = 'action', op = 'opened'}
    local numbers = {lat = true, lon = true, heading = true, speed = true, priority = true,
                     received = true, op = true}
    local w = {}
    for i = 0, k - 1 do
      local f, v = ARGV[P + i * 2], cur[3 + i]
      local j
      if not v or v == '' then j = 'null'
      elseif numbers[f] then j = v
      else j = '"' .. string.gsub(v, '[%c"\\]', function(c)
        return string.format('\\u%04x', string.byte(c)) end) .. '"' end
      w[#w + 1] = '"' .. (names[f] or f) .. '":' .. j
    end
    before = '{' .. table.concat(w, ',') .. '}'
    after = '{' .. ARGV[15] .. '}'
  end
end
if action == 'create' and cur[1] then
  -- an id reopened after its close: a new incident, nothing of the old one
  redis.call('DEL', key)
end
redis.call(unpack(set))
if action == 'create' then
  redis.call('ZADD', KEYS[7], at, ARGV[2])
elseif action == 'close' then
  redis.call('ZREM', KEYS[7], ARGV[2])
  redis.call('EXPIRE', key, ARGV[P + k * 2 + 2])
end

local offset = redis.call('INCR', KEYS[2])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], offset .. '-0',
           'k', kind, 'i', ARGV[2], 'd', ev)
if seq >= 0 then
  redis.call('HSET', KEYS[5], source, ARGV[4] .. ' ' .. offset)
end
if audit then
  redis.call('XADD', KEYS[6], 'MINID', '~', ARGV[13], '*', 't', now, 'actor', ARGV[10],
             'role', ARGV[11], 'addr', ARGV[12], 'kind', kind, 'id', ARGV[2],
             'offset', offset, 'version', version, 'source', source,
             'before', before, 'after', after)
end
return {'ok', offset, epoch, version}
