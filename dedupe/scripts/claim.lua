-- Claims a free key for one owner.
-- KEYS[1] record key. ARGV[1] owner token; ARGV[2] lease in ms.
-- A key that already holds this token's claim is this claim, retried by the
-- client after a lost reply: its lease is set again and it counts as claimed.
-- Returns {1} when claimed, {0, current, pttl} otherwise.
local rec = 'C' .. ARGV[1]
if redis.call('SET', KEYS[1], rec, 'NX', 'PX', ARGV[2]) then
  return {1}
end
local cur = redis.call('GET', KEYS[1])
if cur == rec then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
return {0, cur, redis.call('PTTL', KEYS[1])}
