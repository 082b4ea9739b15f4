-- Extends a claim's lease if the key still holds this owner's token.
-- KEYS[1] record key. ARGV[1] owner token; ARGV[2] lease in ms. Returns 1 or 0.
if redis.call('GET', KEYS[1]) == 'C' .. ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
