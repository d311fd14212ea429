-- A page of the dead letters: KEYS dead; ARGV how many. {count, items}.
return {redis.call('LLEN', KEYS[1]), redis.call('LRANGE', KEYS[1], 0, ARGV[1] - 1)}
