-- Commits values, each atomically and first-wins, with its notification.
-- Run for one key by Store.Commit, or for many keys of one round trip by Exec.
--
-- KEYS[i]: the record key of op i; its notification channel is KEYS[i] ..
-- ':events' (same hash slot). ARGV[1]: 'PUBLISH' or 'SPUBLISH'. Then four
-- arguments per op: token, fenced ('1': the key must hold this token's
-- claim; '0': the key must be free), TTL in ms, value.
--
-- A committed record is 'V' .. token .. ':' .. value. A key that already
-- holds this token's value is this commit, retried by a client after a lost
-- reply: it wins again instead of reporting a conflict with itself.
--
-- Returns one reply per op: 1 when it won, or the current record (false
-- when the key is free).
local publish = ARGV[1]
local replies = {}
for i = 1, #KEYS do
  local a = 2 + (i - 1) * 4
  local token, fenced = ARGV[a], ARGV[a + 1]
  local rec = KEYS[i]
  local cur = redis.call('GET', rec)
  local mine = 'V' .. token .. ':'
  if cur and string.sub(cur, 1, #mine) == mine then
    replies[i] = 1
  elseif fenced == '1' and cur ~= 'C' .. token or fenced ~= '1' and cur then
    replies[i] = cur
  else
    redis.call('SET', rec, mine .. ARGV[a + 3], 'PX', ARGV[a + 2])
    redis.call(publish, rec .. ':events', 'V' .. ARGV[a + 3])
    replies[i] = 1
  end
end
return replies
