-- contact_ingest: step 2 of intake. Stores a new contact idempotently, links it to its
-- customer, queues it (or holds it while the tenant is suspended), offers it to a free agent
-- at once when one matches, and estimates the wait. One atomic step.
-- KEYS[1] hk:{t}:dedupe:<channel>:<dedupe key>
-- ARGV[4] contact id   ARGV[5] dedupe retention s   ARGV[6] customer id   ARGV[7] queue
-- ('' = hold: tenant suspended)   ARGV[8] language (fi|sv|en|any)   ARGV[9] cost
-- ARGV[10] score   ARGV[11] repeat contact 0|1   ARGV[12..] field, value pairs of the hash
-- Returns { 0, '', '', state, events, contact id, duplicate 0|1, estimated wait ms } and, for
-- a duplicate (stored by another replica since step 1), the stored class, score, target,
-- queue and reasons, so that every answer for one dedupe key is the same.
local existing = redis.call('GET', KEYS[1])
if existing then
  local h = redis.call('HMGET', contact_key(existing), 'state', 'class', 'score', 'target',
    'queue', 'reasons')
  return { 0, '', '', h[1] or '', '[]', existing, 1, 0, h[2] or '', h[3] or '0', h[4] or '',
    h[5] or '', h[6] or '' }
end
local cid, cust, queue, lang = ARGV[4], ARGV[6], ARGV[7], ARGV[8]
redis.call('SET', KEYS[1], cid, 'EX', ARGV[5])
redis.call('HSET', contact_key(cid), unpack(ARGV, 12))
redis.call('HSET', contact_key(cid), 'customer', cust, 'lang', lang, 'cost', ARGV[9],
  'score', ARGV[10], 'enq_ms', NOW)
redis.call('ZADD', key('contacts'), NOW, cid)
local ck = key('customer', cust)
redis.call('ZADD', key('customer', cust, 'contacts'), NOW, cid)
redis.call('HSETNX', ck, 'first_ms', NOW)
redis.call('HSET', ck, 'last_ms', NOW, 'last_contact', cid)
redis.call('HINCRBY', ck, 'contacts', 1)
trail(cid, 'received customer=' .. cust .. ' router=' .. ROUTER)
if ARGV[11] == '1' then
  critical('repeat_contact', cid, 'customer=' .. cust)
end
local c = { enq_ms = NOW, score = ARGV[10], lang = lang, cost = ARGV[9] }
if queue == '' then
  redis.call('HSET', contact_key(cid), 'state', 'held')
  redis.call('ZADD', key('held'), NOW, cid)
  trail(cid, 'held reason=tenant_suspended')
  event('contact.held', cid, '', 'held', '', 'reason=tenant_suspended')
  return { 0, '', '', 'held', cjson.encode(EVENTS), cid, 0, 0 }
end
enqueue(cid, c, queue, 'new')
match_contact(cid, c, queue)
local state = redis.call('HGET', contact_key(cid), 'state')
local wait = 0
if state == 'queued' then
  -- Estimated wait: contacts ahead, shared by the staff of the queue, times a recent handle.
  local ahead = redis.call('ZRANK', queue_key(queue, lang), cid) or 0
  local staff = math.max(1, redis.call('SCARD', key('staff', queue)))
  local times = redis.call('LRANGE', key('ht', queue), 0, 19)
  local handle = P.default_handle
  if #times > 0 then
    local sum = 0
    for _, t in ipairs(times) do
      sum = sum + tonumber(t)
    end
    handle = sum / #times
  end
  wait = math.floor((math.floor(ahead / staff) + 1) * handle)
end
return { 0, '', '', state, cjson.encode(EVENTS), cid, 0, wait }
