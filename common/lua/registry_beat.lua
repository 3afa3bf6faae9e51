-- registry_beat: registers or refreshes one service instance (a TTL heartbeat).
-- KEYS[1] hk:{registry}:instances   sorted set "service/instance" -> expiry (Redis ms)
-- KEYS[2] hk:{registry}:inst:<service>/<instance>   hash of the instance
-- ARGV[1] service  ARGV[2] instance  ARGV[3] ttl ms  ARGV[4..] endpoint name, endpoint pairs
-- Returns Redis time in ms. Time comes from Redis so that instances need no synced clocks.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[3])
local member = ARGV[1] .. '/' .. ARGV[2]
redis.call('ZADD', KEYS[1], now + ttl, member)
redis.call('HSETNX', KEYS[2], 'started_ms', now)
redis.call('HSET', KEYS[2], 'service', ARGV[1], 'instance', ARGV[2], 'seen_ms', now)
for i = 4, #ARGV - 1, 2 do
  redis.call('HSET', KEYS[2], 'ep:' .. ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return now
