-- Commits values, each atomically and first-wins. Run for one key by
-- Store.Commit, or for many keys of one round trip by Exec; on a server with
-- native compare-and-set only for the commits that SET ... IFEQ refused.
--
-- KEYS[i]: the record key of op i; its notification channel is KEYS[i] ..
-- ':events' (same hash slot). ARGV[1]: 'PUBLISH' or 'SPUBLISH'. Then three
-- arguments per op: the claim the key must hold ('C' .. token), or '' for a
-- commit into a free key (optimistic mode); the record to store ('V' ..
-- token .. ':' .. value); its TTL in ms.
--
-- A claim that a waiter marked ('W' .. token) is committed too, and only
-- then is the commit published (payload: the stored record), as is every
-- commit into a free key: nobody can be waiting for an unmarked claim. A
-- fenced commit whose claim expired lands too if nobody took the key
-- meanwhile (it is free): the work is done, and no other owner holds it;
-- fencing refuses only another owner's claim or value.
--
-- A key that holds a value of the committing run ('V' .. token .. ':' ...)
-- is this commit, resent after a lost reply: it succeeds again, and stores
-- that value again (same record, same expiry, nothing published) so that
-- the resend is a write of its own: a WAIT after it (WithReplicaAcks) then
-- waits for the replicas to reach an offset that covers the first write. A
-- resend that wrote nothing would leave WAIT nothing to wait for, and it
-- would answer at once on a new connection.
--
-- Returns one reply per op: 1 when stored, or the current record (false when
-- the key is free).
local publish = ARGV[1]
local replies = {}
for i = 1, #KEYS do
  local a = i * 3 - 1
  local rec, claim = KEYS[i], ARGV[a]
  local cur = redis.call('GET', rec)
  if cur == claim and claim ~= '' then
    redis.call('SET', rec, ARGV[a + 1], 'PX', ARGV[a + 2])
    replies[i] = 1
  elseif not cur or (claim ~= '' and cur == 'W' .. string.sub(claim, 2)) then
    redis.call('SET', rec, ARGV[a + 1], 'PX', ARGV[a + 2])
    redis.call(publish, rec .. ':events', ARGV[a + 1])
    replies[i] = 1
  else
    -- 'V' .. token .. ':': the prefix of this run's own value records
    local own = string.match(ARGV[a + 1], '^V[^:]*:')
    if string.sub(cur, 1, #own) == own then
      redis.call('SET', rec, cur, 'KEEPTTL')
      replies[i] = 1
    else
      replies[i] = cur
    end
  end
end
return replies
