-- contact_ingest: stores a new contact idempotently, classifies it and queues it, in one step.
-- KEYS[1] hk:{t}:dedupe:<channel>:<dedupe key>   -> contact id
-- KEYS[2] hk:{t}:contact:<id>                     contact hash
-- KEYS[3] hk:{t}:queue:<queue>                    sorted set, lowest score served first
-- KEYS[4] hk:{t}:contacts                         sorted set of every contact id by receipt ms
-- ARGV[1] contact id (new)   ARGV[2] dedupe retention seconds   ARGV[3] queue score
-- ARGV[4] received ms        ARGV[5..] field, value pairs of the contact hash
-- Returns { id, 0 } for a new contact (the caller knows its decision), or
-- { id, 1, class, score, target, reasons, queue } with the decision stored the first time:
-- the same dedupe key always yields the first contact.
local existing = redis.call('GET', KEYS[1])
if existing then
  local h = redis.call('HMGET', 'hk:{' .. string.match(KEYS[1], '^hk:{([^}]*)}') .. '}:contact:' .. existing,
    'class', 'score', 'target', 'reasons', 'queue')
  return { existing, 1, h[1] or '', h[2] or '0', h[3] or '', h[4] or '', h[5] or '' }
end
local id = ARGV[1]
redis.call('SET', KEYS[1], id, 'EX', ARGV[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('ZADD', KEYS[3], ARGV[3], id)
redis.call('ZADD', KEYS[4], ARGV[4], id)
return { id, 0 }
