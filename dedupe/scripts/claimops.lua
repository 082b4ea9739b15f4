-- Renews or releases claims, each only if the key still holds the owner's
-- token. Run for one key by Store.Renew and Store.Release, or for many keys
-- of one round trip by Exec. (Claims themselves are plain SET NX GET.)
--
-- KEYS[i]: the record key of op i; its notification channel is KEYS[i] ..
-- ':events'. ARGV[1]: 'PUBLISH' or 'SPUBLISH'. Then three arguments per op:
-- kind ('r' renew, 'x' release), token, lease in ms (renewals).
--
-- Returns one reply per op: 1 when the key held the token's claim (renewed,
-- or released with an 'R' notification), 0 otherwise. Both are idempotent:
-- a retried renewal renews again; a retried release finds nothing.
local publish = ARGV[1]
local replies = {}
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 3
  local rec = KEYS[i]
  if redis.call('GET', rec) ~= 'C' .. ARGV[a + 1] then
    replies[i] = 0
  elseif ARGV[a] == 'r' then
    redis.call('PEXPIRE', rec, ARGV[a + 2])
    replies[i] = 1
  else
    redis.call('DEL', rec)
    redis.call(publish, rec .. ':events', 'R')
    replies[i] = 1
  end
end
return replies
