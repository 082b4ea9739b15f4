-- Deletes a claim, and tells the watchers, if the key still holds this owner's token.
-- KEYS[1] record key; KEYS[2] notification channel.
-- ARGV[1] owner token; ARGV[2] 'PUBLISH' or 'SPUBLISH'. Returns 1 or 0.
if redis.call('GET', KEYS[1]) == 'C' .. ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call(ARGV[2], KEYS[2], 'R')
  return 1
end
return 0
