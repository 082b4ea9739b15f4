#!lua flags=no-writes
-- Reads one record for an operator (Store.Inspect, Scan and Stats), in
-- one atomic step: the key's type, its stored string (all of it, or its
-- first bytes), its PTTL and, on request, its MEMORY USAGE. It writes
-- nothing, so it also runs on a server that is out of memory.
--
-- KEYS[1]: the record key. ARGV[1]: the most bytes of the stored string to
-- return ('0': all of it). ARGV[2]: '1' to measure the key's memory.
--
-- Returns {'none'} for a free key, otherwise {type, the stored string (false
-- unless type is 'string'), PTTL, MEMORY USAGE in bytes (or false)}. A type
-- other than 'string' is no record of ours.
local rec = KEYS[1]
local t = redis.call('TYPE', rec).ok
if t == 'none' then
  return {t}
end
local cur, mem = false, false
if t == 'string' then
  local n = tonumber(ARGV[1])
  if n > 0 then
    cur = redis.call('GETRANGE', rec, 0, n - 1)
  else
    cur = redis.call('GET', rec)
  end
end
if ARGV[2] == '1' then
  mem = redis.call('MEMORY', 'USAGE', rec)
end
return {t, cur, redis.call('PTTL', rec), mem}
