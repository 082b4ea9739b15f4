-- Every operation of a RedisStore: one script, run for one key by the
-- Store methods or for many keys of one round trip by Exec.
--
-- KEYS: for op i, KEYS[2i-1] is the record key, KEYS[2i] its notification
-- channel (same hash slot). ARGV[1]: 'PUBLISH' or 'SPUBLISH'. Then five
-- arguments per op: kind ('c' claim, 'r' renew, 'v' commit, 'x' release),
-- token, milliseconds (lease, or the value's TTL), fenced ('1' or '0', for
-- commits), value (for commits).
--
-- Records: 'C' .. token is a claim; 'V' .. token .. ':' .. value is a value
-- committed by the run with that token. Every op recognises its own earlier
-- effect, so a client that resends a script after a lost reply gets the same
-- answer: a retried claim finds its own claim, a retried commit its own value.
--
-- Returns one reply per op: {1} when it succeeded (claimed, renewed, won,
-- released); otherwise {0} or, for claims and commits, {0, current record}
-- and, for claims, {0, current record, PTTL}.

local publish = ARGV[1]

local function claim(rec, token, lease)
  local mine = 'C' .. token
  if redis.call('SET', rec, mine, 'NX', 'PX', lease) then
    return {1}
  end
  local cur = redis.call('GET', rec)
  if cur == mine then
    redis.call('PEXPIRE', rec, lease)
    return {1}
  end
  return {0, cur, redis.call('PTTL', rec)}
end

local function renew(rec, token, lease)
  if redis.call('GET', rec) == 'C' .. token then
    redis.call('PEXPIRE', rec, lease)
    return {1}
  end
  return {0}
end

local function commit(rec, channel, token, ttl, fenced, value)
  local cur = redis.call('GET', rec)
  local mine = 'V' .. token .. ':'
  if cur and string.sub(cur, 1, #mine) == mine then
    return {1}
  end
  if fenced == '1' and cur ~= 'C' .. token or fenced ~= '1' and cur then
    if cur then
      return {0, cur}
    end
    return {0}
  end
  redis.call('SET', rec, mine .. value, 'PX', ttl)
  redis.call(publish, channel, 'V' .. value)
  return {1}
end

local function release(rec, channel, token)
  if redis.call('GET', rec) == 'C' .. token then
    redis.call('DEL', rec)
    redis.call(publish, channel, 'R')
    return {1}
  end
  return {0}
end

local replies = {}
for i = 1, #KEYS / 2 do
  local a = 2 + (i - 1) * 5
  local kind, token, ms = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  local rec, channel = KEYS[2 * i - 1], KEYS[2 * i]
  if kind == 'c' then
    replies[i] = claim(rec, token, ms)
  elseif kind == 'r' then
    replies[i] = renew(rec, token, ms)
  elseif kind == 'v' then
    replies[i] = commit(rec, channel, token, ms, ARGV[a + 3], ARGV[a + 4])
  elseif kind == 'x' then
    replies[i] = release(rec, channel, token)
  else
    return redis.error_reply('unknown op kind ' .. tostring(kind))
  end
end
return replies
