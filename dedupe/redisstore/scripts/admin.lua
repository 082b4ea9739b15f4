-- An operator's deletions (Store.ForceRelease and Forget), each fenced
-- by the token the caller has just read, so that a call resent after a lost
-- reply never deletes a record written after the first one's deletion.
--
-- KEYS[1]: the record key; its notification channel is KEYS[1] .. ':events'.
-- ARGV[1]: 'f' deletes the claim of the token ('C' or 'W' .. token) and
-- publishes 'R' on the channel, marked or not, so that every waiter re-reads
-- the key and claims it; 'd' deletes the value committed by the token's run
-- ('V' .. token .. ':' .. value) and publishes nothing (nobody waits for a
-- committed key). ARGV[2]: 'PUBLISH' or 'SPUBLISH'. ARGV[3]: the token.
--
-- Returns 1 when deleted, 0 when the key holds anything else.
local rec, op, token = KEYS[1], ARGV[1], ARGV[3]
local cur = redis.call('GET', rec)
if not cur then
  return 0
end
if op == 'f' and (cur == 'C' .. token or cur == 'W' .. token) then
  redis.call('DEL', rec)
  redis.call(ARGV[2], rec .. ':events', 'R')
  return 1
elseif op == 'd' and string.sub(cur, 1, #token + 2) == 'V' .. token .. ':' then
  redis.call('DEL', rec)
  return 1
end
return 0
