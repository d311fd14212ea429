local ids = ARGV[2] ~= '' and {ARGV[2]} or redis.call('SMEMBERS', KEYS[1])
local out = {}
for _, id in ipairs(ids) do
  local k = ARGV[1] .. 'mci:' .. id
  local h = redis.call('HGETALL', k)
  if #h > 0 then
    out[#out + 1] = {id, h, redis.call('HGETALL', k .. ':ans'),
                     redis.call('LRANGE', k .. ':pat', 0, 1999)}
  end
end
return out
