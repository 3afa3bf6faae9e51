-- contact_intake: a contact's whole intake in one atomic step. Answers a known dedupe key with
-- the first contact; otherwise links the customer's identities to one customer (creating it
-- on first sight), reads the history signals, picks the decision the router classified for
-- exactly those signals, stores the contact, queues it (or holds it while the tenant is
-- suspended), offers it to a free agent at once when one matches, and estimates the wait.
-- KEYS[1] hk:{t}:dedupe:<channel>:<dedupe key>
-- ARGV[4] contact id   ARGV[5] dedupe retention s   ARGV[6] new customer id
-- ARGV[7] repeat window ms   ARGV[8] '1' to hold (tenant suspended)   ARGV[9] language
-- (fi|sv|en|any)   ARGV[10] cost   ARGV[11] N identity pairs   ARGV[12..] N kind, value pairs,
-- then 16 decisions "class|score|target|queue|reasons", one per combination of the signals
-- (repeat, first contact, vulnerable, VIP) as bits 8, 4, 2, 1, then field, value pairs of the
-- contact hash.
-- Returns { 0, '', '', state, events, contact id, duplicate 0|1, estimated wait ms, decision
-- index 0..15, customer id } or, for a duplicate, { 0, '', '', state, '[]', contact id, 1, 0,
-- class, score, target, queue, reasons }: the same dedupe key always yields the first contact.
local existing = redis.call('GET', KEYS[1])
if existing then
  local h = redis.call('HMGET', contact_key(existing), 'state', 'class', 'score', 'target',
    'queue', 'reasons')
  return { 0, '', '', h[1] or '', '[]', existing, 1, 0, h[2] or '', h[3] or '0', h[4] or '',
    h[5] or '', h[6] or '' }
end
local cid, held, lang, cost = ARGV[4], ARGV[8] == '1', ARGV[9], ARGV[10]
local n_ids = tonumber(ARGV[11])
local decisions = 12 + 2 * n_ids
local fields = decisions + 16

-- The customer: the first identity already linked names it; otherwise a new one.
local cust
for i = 12, decisions - 2, 2 do
  cust = cust or redis.call('GET', key('cust', ARGV[i], ARGV[i + 1]))
end
local ck
local first, repeat_, vulnerable, vip = 1, 0, 0, 0
if cust then
  ck = key('customer', cust)
  local f = redis.call('HMGET', ck, 'last_ms', 'vulnerable', 'vip')
  first = f[1] and 0 or 1
  repeat_ = (f[1] and NOW - tonumber(f[1]) <= tonumber(ARGV[7])) and 1 or 0
  vulnerable, vip = f[2] == '1' and 1 or 0, f[3] == '1' and 1 or 0
else
  cust = ARGV[6]
  ck = key('customer', cust)
  redis.call('HSET', ck, 'id', cust, 'created_ms', NOW, 'first_ms', NOW)
end
for i = 12, decisions - 2, 2 do
  if redis.call('SET', key('cust', ARGV[i], ARGV[i + 1]), cust, 'NX') then
    redis.call('HSETNX', ck, ARGV[i], ARGV[i + 1])
  end
end

-- The decision for these signals (classified by the router, rt_classify.c).
local index = repeat_ * 8 + first * 4 + vulnerable * 2 + vip
local class, score, target, queue, reasons =
  string.match(ARGV[decisions + index], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')

redis.call('SET', KEYS[1], cid, 'EX', ARGV[5])
local h = { unpack(ARGV, fields) }
for _, v in ipairs({ 'customer', cust, 'lang', lang, 'cost', cost, 'score', score, 'enq_ms', NOW,
  'class', class, 'target', target, 'queue', queue, 'reasons', reasons,
  'first_contact', first == 1 and '1' or '', 'state', held and 'held' or 'queued' }) do
  h[#h + 1] = v
end
redis.call('HSET', contact_key(cid), unpack(h))
redis.call('ZADD', key('contacts'), NOW, cid)
redis.call('ZADD', key('customer', cust, 'contacts'), NOW, cid)
redis.call('HSET', ck, 'last_ms', NOW, 'last_contact', cid)
trail(cid, 'received customer=' .. cust .. ' class=' .. class .. ' router=' .. ROUTER)
if repeat_ == 1 then
  critical('repeat_contact', cid, 'customer=' .. cust)
end
local c = { enq_ms = NOW, score = score, lang = lang, cost = cost }
if held then
  redis.call('ZADD', key('held'), NOW, cid)
  trail(cid, 'held reason=tenant_suspended')
  event('contact.held', cid, '', 'held', '', 'reason=tenant_suspended')
  return { 0, '', '', 'held', cjson.encode(EVENTS), cid, 0, 0, index, cust }
end
enqueue(cid, c, queue, 'new')
match_contact(cid, c, queue)
local state = redis.call('HGET', contact_key(cid), 'state')
local wait = 0
if state == 'queued' then
  -- Estimated wait: contacts ahead, shared by the staff of the queue, times a recent handle.
  local ahead = redis.call('ZRANK', queue_key(queue, c.lang), cid) or 0
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
return { 0, '', '', state, cjson.encode(EVENTS), cid, 0, wait, index, cust }
