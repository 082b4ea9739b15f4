-- Claims ('c') or reads ('g') keys that a waiter of this store watches, and
-- marks another owner's claim as watched, so that its commit or release is
-- published (see commit.lua). Run instead of a plain SET NX GET or GET, only
-- for keys the store watches.
--
-- KEYS[i]: the record key of op i. ARGV: three arguments per op: kind, the
-- claim ('C' .. token; unused for 'g'), the lease in ms ('c').
--
-- A claim taken here is stored marked ('W' .. token): the store watches the
-- key, so its own commit or release is published too.
--
-- Returns one reply per op: 1 when claimed (or already held by this claim,
-- retried: its lease is set again); false when a read finds the key free;
-- otherwise {current record, PTTL}.
local replies = {}
for i = 1, #KEYS do
  local a = i * 3 - 2
  local rec, claim = KEYS[i], ARGV[a + 1]
  local cur = redis.call('GET', rec)
  local watched = 'W' .. string.sub(claim, 2)
  if ARGV[a] == 'c' and (not cur or cur == claim or cur == watched) then
    redis.call('SET', rec, watched, 'PX', ARGV[a + 2])
    replies[i] = 1
  elseif not cur then
    replies[i] = false
  else
    if string.sub(cur, 1, 1) == 'C' then
      redis.call('SET', rec, 'W' .. string.sub(cur, 2), 'KEEPTTL')
    end
    replies[i] = {cur, redis.call('PTTL', rec)}
  end
end
return replies
