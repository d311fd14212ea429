-- Reads everything a plan needs, and the MCIs opened or closed since the
-- notification side last saw them:
-- {ver, clock, alerts, acks, mutes, raised, obs, {{id, hash}..}, {{id, hash}..}, init}
local function mci(id) return {id, redis.call('HGETALL', ARGV[1] .. 'mci:' .. id)} end
local opened, closed = {}, {}
for _, id in ipairs(redis.call('SDIFF', KEYS[8], KEYS[9])) do opened[#opened + 1] = mci(id) end
for _, id in ipairs(redis.call('SDIFF', KEYS[9], KEYS[8])) do closed[#closed + 1] = mci(id) end
return {redis.call('GET', KEYS[2]) or '0', redis.call('GET', KEYS[3]) or '',
        redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[4]),
        redis.call('HGETALL', KEYS[5]), redis.call('GET', KEYS[6]) or '0',
        redis.call('HGETALL', KEYS[7]), opened, closed, redis.call('EXISTS', KEYS[10])}
