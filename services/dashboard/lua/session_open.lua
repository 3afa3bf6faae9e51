-- session_open: stores a new dashboard session of an account that still exists (one atomic
-- step, so a session never outlives a removal made at the same moment).
-- KEYS[1] hk:{t}:account:<id>:sessions (the account's session set; the account hash is the
-- same name without ':sessions', so the one key the script is given is one it writes)
-- ARGV[1] now ms   ARGV[2] '{}'   ARGV[3] instance
-- ARGV[4] SHA-256 of the token (hex)   ARGV[5] lifetime ms   ARGV[6] expiry (unix ms, text)
-- Returns { 1, role, name } or { 0 } when the account is gone.
local set = KEYS[1]
local acc = hgetall(string.sub(set, 1, -10))
if not acc then
  return { 0 }
end
local ttl = tonumber(ARGV[5])
local sk = key('session', ARGV[4])
redis.call('HSET', sk, 'account', acc.id, 'role', acc.role, 'name', acc.name or '',
  'created_ms', ARGV[1], 'expires_ms', ARGV[6], 'instance', ARGV[3])
redis.call('PEXPIRE', sk, ttl)
redis.call('SADD', set, ARGV[4])
if redis.call('PTTL', set) < ttl then
  redis.call('PEXPIRE', set, ttl)
end
return { 1, acc.role, acc.name or '' }
