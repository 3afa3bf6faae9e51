-- contact_intake: the intake of a batch of contacts of one tenant, each contact in the same
-- atomic step. For each contact: answers a known dedupe key with the first contact; otherwise
-- links the customer's identities to one customer (creating it on first sight), reads the
-- history signals, picks the decision the router classified for exactly those signals,
-- stores the contact, queues it (or holds it while the tenant is suspended), offers it to a
-- free agent at once when one matches, and estimates the wait. The router gathers the
-- contacts that arrive together (up to a few dozen) into one call: the script's fixed costs
-- are paid once per batch instead of once per contact.
-- KEYS[1] hk:{t}:rev   ARGV[4] M, the number of contacts; then per contact: N, the number of
-- its arguments that follow, and those N arguments:
--   1 dedupe key hk:{t}:dedupe:<channel>:<key>   2 contact id   3 dedupe retention s
--   4 new customer id   5 repeat window ms   6 '1' to hold (tenant suspended)
--   7 language (fi|sv|en|any)   8 cost   9 I identity pairs   10.. I kind, value pairs,
--   then 16 decisions "class|score|target|queue|reasons", one per combination of the signals
--   (repeat, first contact, vulnerable, VIP) as bits 8, 4, 2, 1, then field, value pairs of
--   the contact hash.
-- Returns { 0, '', '', '', '', M, result 1, ..., result M } where a result is
-- { 0, '', '', state, events, contact id, duplicate 0|1, estimated wait ms, decision index
-- 0..15, customer id } or, for a duplicate, { 0, '', '', state, '[]', contact id, 1, 0, class,
-- score, target, queue, reasons }: the same dedupe key always yields the first contact.

-- The queue's staffing and recent handle times, read once per queue and batch.
local wait_basis = {}
local function handle_basis(queue)
  local b = wait_basis[queue]
  if not b then
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
    b = { staff = staff, handle = handle }
    wait_basis[queue] = b
  end
  return b
end

-- One contact; A holds its arguments (A[1] the dedupe key, as listed above).
local function intake_one(A)
  local existing = redis.call('GET', A[1])
  if existing then
    local h = redis.call('HMGET', contact_key(existing), 'state', 'class', 'score', 'target',
      'queue', 'reasons')
    return { 0, '', '', h[1] or '', '[]', existing, 1, 0, h[2] or '', h[3] or '0', h[4] or '',
      h[5] or '', h[6] or '' }
  end
  local cid, held, lang, cost = A[2], A[6] == '1', A[7], A[8]
  local n_ids = tonumber(A[9])
  local decisions = 10 + 2 * n_ids
  local fields = decisions + 16

  -- The customer: the first identity already linked names it; otherwise a new one.
  local cust
  for i = 10, decisions - 2, 2 do
    cust = cust or redis.call('GET', key('cust', A[i], A[i + 1]))
  end
  local first, repeat_, vulnerable, vip = 1, 0, 0, 0
  local ck
  local cust_fields = { 'last_ms', NOW, 'last_contact', cid }
  if cust then
    ck = key('customer', cust)
    local f = redis.call('HMGET', ck, 'last_ms', 'vulnerable', 'vip')
    first = f[1] and 0 or 1
    repeat_ = (f[1] and NOW - tonumber(f[1]) <= tonumber(A[5])) and 1 or 0
    vulnerable, vip = f[2] == '1' and 1 or 0, f[3] == '1' and 1 or 0
    for i = 10, decisions - 2, 2 do
      if redis.call('SET', key('cust', A[i], A[i + 1]), cust, 'NX') then
        redis.call('HSETNX', ck, A[i], A[i + 1])
      end
    end
  else
    cust = A[4]
    ck = key('customer', cust)
    for _, v in ipairs({ 'id', cust, 'created_ms', NOW, 'first_ms', NOW }) do
      cust_fields[#cust_fields + 1] = v
    end
    local linked = {}
    for i = 10, decisions - 2, 2 do
      if redis.call('SET', key('cust', A[i], A[i + 1]), cust, 'NX') and not linked[A[i]] then
        linked[A[i]] = true -- the first identity of a kind names it, as HSETNX would
        cust_fields[#cust_fields + 1] = A[i]
        cust_fields[#cust_fields + 1] = A[i + 1]
      end
    end
  end
  redis.call('HSET', ck, unpack(cust_fields))

  -- The decision for these signals (classified by the router, rt_classify.c).
  local index = repeat_ * 8 + first * 4 + vulnerable * 2 + vip
  local class, score, target, queue, reasons =
    string.match(A[decisions + index], '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')

  redis.call('SET', A[1], cid, 'EX', A[3])
  local h = { unpack(A, fields, #A) }
  for _, v in ipairs({ 'customer', cust, 'lang', lang, 'cost', cost, 'score', score,
    'enq_ms', NOW, 'class', class, 'target', target, 'queue', queue, 'reasons', reasons,
    'first_contact', first == 1 and '1' or '', 'state', held and 'held' or 'queued' }) do
    h[#h + 1] = v
  end
  redis.call('HSET', contact_key(cid), unpack(h))
  redis.call('ZADD', key('contacts'), NOW, cid)
  redis.call('ZADD', key('customer', cust, 'contacts'), NOW, cid)
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
  if match_contact(cid, c, queue) then
    return { 0, '', '', 'offered', cjson.encode(EVENTS), cid, 0, 0, index, cust }
  end
  -- Estimated wait: contacts ahead, shared by the staff of the queue, times a recent handle.
  local ahead = redis.call('ZRANK', queue_key(queue, c.lang), cid) or 0
  local b = handle_basis(queue)
  local wait = math.floor((math.floor(ahead / b.staff) + 1) * b.handle)
  return { 0, '', '', 'queued', cjson.encode(EVENTS), cid, 0, wait, index, cust }
end

local results = { 0, '', '', '', '', tonumber(ARGV[4]) }
local at = 5
for _ = 1, tonumber(ARGV[4]) do
  local n = tonumber(ARGV[at])
  EVENTS = {}
  results[#results + 1] = intake_one({ unpack(ARGV, at + 1, at + n) })
  at = at + 1 + n
end
return results
