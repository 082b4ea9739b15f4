-- Claims a free key for one owner.
-- KEYS[1] record key. ARGV[1] owner token; ARGV[2] lease in ms.
-- Returns {1} when claimed, {0, current, pttl} otherwise.
if redis.call('SET', KEYS[1], 'C' .. ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1}
end
return {0, redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1])}
