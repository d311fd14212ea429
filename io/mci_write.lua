local act = ARGV[1]
if act == 'declare' then
  if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[9]) then return -2 end
  if redis.call('EXISTS', KEYS[1]) == 1 then return -3 end
  redis.call('HSET', KEYS[1], unpack(ARGV, 10))
  redis.call('SADD', KEYS[2], ARGV[2])
elseif redis.call('HGET', KEYS[1], 'status') ~= 'open' then
  return 0
elseif act == 'answer' then
  redis.call('HSET', KEYS[1] .. ':ans', ARGV[9], ARGV[10])
elseif act == 'patient' then
  if redis.call('LLEN', KEYS[1] .. ':pat') >= tonumber(ARGV[10]) then return -1 end
  redis.call('RPUSH', KEYS[1] .. ':pat', ARGV[9])
else
  redis.call('HSET', KEYS[1], 'status', 'closed', 'closed', ARGV[9])
  redis.call('SREM', KEYS[2], ARGV[2])
  for _, s in ipairs({'', ':ans', ':pat'}) do redis.call('EXPIRE', KEYS[1] .. s, ARGV[10]) end
end
redis.call('XADD', KEYS[3], 'MINID', '~', ARGV[8], '*', 't', ARGV[3], 'actor', ARGV[4],
           'role', ARGV[5], 'addr', ARGV[6], 'kind', 'mci', 'id', ARGV[2], 'action', act,
           'after', ARGV[7])
return 1
