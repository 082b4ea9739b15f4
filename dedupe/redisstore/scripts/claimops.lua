-- Renews or releases claims, each only if the key still holds the owner's
-- claim. Run for one key by Store.Renew and Store.Release, or for many keys
-- of one round trip by Exec; on a server with native compare-and-set only
-- for the renewals that SET ... IFEQ refused, and for releases.
--
-- KEYS[i]: the record key of op i; its notification channel is KEYS[i] ..
-- ':events'. ARGV[1]: 'PUBLISH' or 'SPUBLISH'. Then three arguments per op:
-- kind ('r' renew, 'x' release), the claim ('C' .. token), the lease in ms
-- (renewals).
--
-- The owner's claim may have been marked by a waiter ('W' .. token): it is
-- renewed or released all the same, and a release of a marked claim is
-- published ('R').
--
-- Returns one reply per op: 1 when the key held the claim (renewed or
-- released), 0 otherwise. Both are idempotent: a retried renewal renews
-- again; a retried release finds nothing.
local publish = ARGV[1]
local replies = {}
for i = 1, #KEYS do
  local a = i * 3 - 1
  local rec, claim = KEYS[i], ARGV[a + 1]
  local cur = redis.call('GET', rec)
  local marked = cur and cur ~= claim and cur == 'W' .. string.sub(claim, 2)
  if cur ~= claim and not marked then
    replies[i] = 0
  elseif ARGV[a] == 'r' then
    redis.call('PEXPIRE', rec, ARGV[a + 2])
    replies[i] = 1
  else
    redis.call('DEL', rec)
    if marked then
      redis.call(publish, rec .. ':events', 'R')
    end
    replies[i] = 1
  end
end
return replies
