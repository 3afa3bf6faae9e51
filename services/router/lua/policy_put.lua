-- policy_put: stores the next version of a tenant's policy text in one atomic step
-- (`hetki policy load`). The caller has validated the text; replicas poll the version.
--   KEYS[1]  hk:{t}:policy   hash: version, text, loaded_at_ms, source
--   ARGV[1]  now, unix ms (0: take the Redis clock)
--   ARGV[2]  '{}' (unused: keeps the routing scripts' calling convention, see _prelude.lua)
--   ARGV[3]  source: who loaded it from where
--   ARGV[4]  the policy text
-- Returns the new version (the previous one + 1; the first is 1).
do
  local now_ms = tonumber(ARGV[1]) or 0
  if now_ms <= 0 then
    local t = redis.call('TIME')
    now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  local version = (tonumber(redis.call('HGET', KEYS[1], 'version')) or 0) + 1
  redis.call('HSET', KEYS[1], 'version', version, 'text', ARGV[4], 'loaded_at_ms', now_ms,
    'source', ARGV[3])
  return version
end
