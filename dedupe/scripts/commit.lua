-- Atomic first-wins commit, with its notification, in one round trip.
-- KEYS[1] record key; KEYS[2] notification channel (same hash slot).
-- ARGV[1] owner token ('' = optimistic: the key must be free;
--         otherwise the key must hold this owner's claim: fencing)
-- ARGV[2] value; ARGV[3] TTL in ms; ARGV[4] 'PUBLISH' or 'SPUBLISH'.
-- Returns {1} when this commit won, {0, current} otherwise ({0} when the key is free).
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return {0, cur} end
elseif cur ~= 'C' .. ARGV[1] then
  if cur then return {0, cur} end
  return {0}
end
local rec = 'V' .. ARGV[2]
redis.call('SET', KEYS[1], rec, 'PX', ARGV[3])
redis.call(ARGV[4], KEYS[2], rec)
return {1}
