-- Atomic first-wins commit, with its notification, in one round trip.
-- KEYS[1] record key; KEYS[2] notification channel (same hash slot).
-- ARGV[1] the committing run's token; ARGV[2] '1' = fenced: the key must
-- hold this token's claim, '0' = optimistic: the key must be free;
-- ARGV[3] value; ARGV[4] TTL in ms; ARGV[5] 'PUBLISH' or 'SPUBLISH'.
-- The record is 'V' .. token .. ':' .. value, so a retry of this commit
-- (a client resending it after a lost reply) finds its own record and wins
-- again instead of reporting a conflict with itself.
-- Returns {1} when this commit won, {0, current} otherwise ({0} when the key is free).
local cur = redis.call('GET', KEYS[1])
local mine = 'V' .. ARGV[1] .. ':'
if cur and string.sub(cur, 1, #mine) == mine then
  return {1}
end
if ARGV[2] == '1' then
  if cur ~= 'C' .. ARGV[1] then
    if cur then return {0, cur} end
    return {0}
  end
elseif cur then
  return {0, cur}
end
redis.call('SET', KEYS[1], mine .. ARGV[3], 'PX', ARGV[4])
redis.call(ARGV[5], KEYS[2], 'V' .. ARGV[3])
return {1}
