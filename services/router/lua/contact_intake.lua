-- contact_intake: the intake of a batch of contacts of one tenant, each contact in the same
-- atomic step. For each contact: answers a known dedupe key with the first contact; otherwise
-- links the customer's identities to one customer (creating it on first sight), reads the
-- history signals, picks the decision the router classified for exactly those signals,
-- stores the contact, queues it (or holds it while the tenant is suspended), offers it to a
-- free agent at once when one matches, and estimates the wait. The router gathers the
-- contacts that arrive together (up to a few dozen) into one call: the script's fixed costs
-- are paid once per batch instead of once per contact, and so are the writes that can be
-- shared (one MGET of the dedupe keys, one of the identities, one MSET of new identities, one
-- ZADD per index and queue, one INCRBY for the events' revs). What stays per contact: the
-- dedupe key with its expiry, the contact and customer hashes, the customer's contact list,
-- the trail, and the wait estimate.
-- KEYS[1] hk:{t}:rev   ARGV[4] M, the number of contacts; then per contact: N, the number of
-- its arguments that follow, and those N arguments:
--   1 dedupe key hk:{t}:dedupe:<channel>:<key>   2 contact id   3 dedupe retention s
--   4 new customer id   5 repeat window ms   6 '1' to hold (tenant suspended)
--   7 language (fi|sv|en|any)   8 cost   9 I identity pairs   10.. I kind, value pairs,
--   then the decisions: one argument of 17 lines separated by '\n', the reasons every decision
--   starts with, then per combination of the signals (repeat, first contact, vulnerable, VIP;
--   bits 8, 4, 2, 1) "class|score|target|queue|further reasons"; then field, value pairs of
--   the contact hash.
-- Returns { 0, '', '', '', '', M, result 1, ..., result M } where a result is
-- { 0, '', '', state, events, contact id, duplicate 0|1, estimated wait ms, decision index
-- 0..15, customer id } or, for a duplicate, { 0, '', '', state, {}, contact id, 1, 0, class,
-- score, target, queue, reasons }: the same dedupe key always yields the first contact.

local M = tonumber(ARGV[4])
local items = {}
do
  local at = 5
  for i = 1, M do
    local n = tonumber(ARGV[at])
    items[i] = { unpack(ARGV, at + 1, at + n) }
    at = at + 1 + n
  end
end

-- Reads shared by the batch: the dedupe keys and the identities, one MGET each. FIRST[i] is
-- the contact an item's dedupe key already names (false: none); BY_KEY finds the later items
-- of the batch with the same dedupe key. IDENT caches identity key -> customer (false:
-- unlinked) and learns the links made in this batch; NEW_IDS are the links to write (one MSET
-- at the end). (Redis runs Lua slowly: the hot path avoids helper calls and temporary tables.)
local FIRST, BY_KEY = {}, {}
do
  local keys = {}
  for i = 1, M do
    keys[i] = items[i][1]
  end
  local known = redis.call('MGET', unpack(keys))
  for i = 1, M do
    FIRST[i] = known[i] or false
    local k = keys[i]
    local same = BY_KEY[k]
    if same then
      same[#same + 1] = i
    else
      BY_KEY[k] = { i }
    end
  end
end
local IDENT, NEW_IDS, ID_KEYS = {}, {}, {}
do
  local keys = {}
  for i = 1, M do
    local A = items[i]
    if not FIRST[i] then
      local mine = {} -- the item's identity keys, in the order of its kind, value pairs
      ID_KEYS[i] = mine
      for j = 10, 9 + 2 * A[9], 2 do
        local k = T .. 'cust:' .. A[j] .. ':' .. A[j + 1]
        mine[#mine + 1] = k
        if IDENT[k] == nil then
          IDENT[k] = false
          keys[#keys + 1] = k
        end
      end
    end
  end
  if #keys > 0 then
    local linked = redis.call('MGET', unpack(keys))
    for i, k in ipairs(keys) do
      IDENT[k] = linked[i] or false
    end
  end
end

-- Writes gathered for the end of the batch (gather): index and queue members, overflow
-- timers, as score, member pairs by key.
local INDEX, QUEUED, TIMERS, WAITING = {}, {}, {}, {}

-- Whether an agent may be free for queue (its availability set is not empty); read once per
-- queue and batch (intake frees no agent).
local AVAIL = {}
local function may_match(queue)
  local may = AVAIL[queue]
  if may == nil then
    may = redis.call('EXISTS', T .. 'avail:' .. queue) == 1
    AVAIL[queue] = may
  end
  return may
end

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

-- A contact whose dedupe key is known: its first contact's answer.
local function answer_duplicate(existing)
  local h = redis.call('HMGET', contact_key(existing), 'state', 'class', 'score', 'target',
    'queue', 'reasons')
  return { 0, '', '', h[1] or '', {}, existing, 1, 0, h[2] or '', h[3] or '0', h[4] or '',
    h[5] or '', h[6] or '' }
end

-- Links each of the contact's identities (keys: their keys, ID_KEYS) that names no customer
-- yet to cust (one MSET at the end of the batch); calls linked(kind, value) for each.
local function link_identities(A, keys, cust, linked)
  for n, k in ipairs(keys) do
    local j = 8 + 2 * n
    if not IDENT[k] then
      IDENT[k] = cust
      NEW_IDS[#NEW_IDS + 1] = k
      NEW_IDS[#NEW_IDS + 1] = cust
      linked(A[j], A[j + 1])
    end
  end
end

-- The history signals of a known customer, linking the contact's new identities to it.
local function known_customer(cust, A, keys)
  local ck = T .. 'customer:' .. cust
  local f = redis.call('HMGET', ck, 'last_ms', 'vulnerable', 'vip')
  local first = f[1] and 0 or 1
  local repeat_ = (f[1] and NOW - tonumber(f[1]) <= tonumber(A[5])) and 1 or 0
  link_identities(A, keys, cust, function(kind, value)
    redis.call('HSETNX', ck, kind, value)
  end)
  redis.call('HSET', ck, 'last_ms', NOW_TEXT, 'last_contact', A[2])
  return repeat_ * 8 + first * 4 + (f[2] == '1' and 2 or 0) + (f[3] == '1' and 1 or 0)
end

-- A new customer named by the contact's identities (the first of each kind names it, as
-- HSETNX would).
local function new_customer(cust, A, keys)
  local fields = { 'id', cust, 'created_ms', NOW_TEXT, 'first_ms', NOW_TEXT, 'last_ms', NOW_TEXT,
    'last_contact', A[2] }
  local named = {}
  link_identities(A, keys, cust, function(kind, value)
    if not named[kind] then
      named[kind] = true
      fields[#fields + 1] = kind
      fields[#fields + 1] = value
    end
  end)
  redis.call('HSET', T .. 'customer:' .. cust, unpack(fields))
  return 4 -- first contact, no other signal
end

-- One contact; A holds its arguments (A[1] the dedupe key, as listed above).
local function intake_one(i, A)
  if FIRST[i] then
    return answer_duplicate(FIRST[i])
  end
  local cid, lang = A[2], A[7]
  local decisions = 10 + 2 * A[9]

  -- The customer: the first identity already linked names it; otherwise a new one.
  local cust
  for _, k in ipairs(ID_KEYS[i]) do
    cust = IDENT[k]
    if cust then
      break
    end
  end
  local index
  if cust then
    index = known_customer(cust, A, ID_KEYS[i])
  else
    cust = A[4]
    index = new_customer(cust, A, ID_KEYS[i])
  end

  -- The decision for these signals (classified by the router, rt_classify.c): the line of
  -- index after the line of base reasons.
  local all = A[decisions]
  local from = string.find(all, '\n', 1, true)
  local base = string.sub(all, 1, from - 1)
  for _ = 1, index do
    from = string.find(all, '\n', from + 1, true)
  end
  local to = string.find(all, '\n', from + 1, true)
  local class, score, target, queue, reasons =
    string.match(string.sub(all, from + 1, (to or 0) - 1), '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|(.*)$')
  if base ~= '' then
    reasons = reasons ~= '' and (base .. ',' .. reasons) or base
  end
  -- Nobody in this queue speaks the language: anyone there may take it.
  local q = P.queues[queue]
  if lang ~= 'any' and q and not q.langs[lang] then
    lang = 'any'
  end
  local held = A[6] == '1'

  redis.call('SET', A[1], cid, 'EX', A[3])
  for _, k in ipairs(BY_KEY[A[1]]) do -- this dedupe key again in this batch: a duplicate
    FIRST[k] = FIRST[k] or (k > i and cid)
  end
  redis.call('HSET', T .. 'contact:' .. cid, 'customer', cust, 'lang', lang, 'cost', A[8],
    'score', score, 'enq_ms', NOW_TEXT, 'class', class, 'target', target, 'queue', queue,
    'reasons', reasons, 'first_contact', index % 8 >= 4 and '1' or '', 'state',
    held and 'held' or 'queued', 'offer_agent', '', 'agent', '', unpack(A, decisions + 1, #A))
  gather(INDEX, T .. 'contacts', NOW_TEXT, cid)
  redis.call('ZADD', T .. 'customer:' .. cust .. ':contacts', NOW_TEXT, cid)
  trail(cid, 'received customer=' .. cust .. ' class=' .. class .. ' router=' .. ROUTER)
  if index >= 8 then
    critical('repeat_contact', cid, 'customer=' .. cust)
  end
  if held then
    redis.call('ZADD', key('held'), NOW_TEXT, cid)
    trail(cid, 'held reason=tenant_suspended')
    event('contact.held', cid, '', 'held', '', 'reason=tenant_suspended')
    return { 0, '', '', 'held', EVENTS, cid, 0, 0, index, cust }
  end
  if may_match(queue) then
    local c = { enq_ms = NOW, score = score, lang = lang, cost = A[8] }
    enqueue(cid, c, queue, 'new')
    if match_contact(cid, c, queue) then
      return { 0, '', '', 'offered', EVENTS, cid, 0, 0, index, cust }
    end
  else
    -- No agent can take it now: the queue member and the overflow timer are written at the
    -- end of the batch (the hash has its queue fields already).
    gather(QUEUED, T .. 'q:' .. queue .. ':' .. lang, int(NOW - score * P.aging), cid)
    if q and q.overflow_to ~= '' and q.overflow_after > 0 then
      gather(TIMERS, T .. 'timers', int(NOW + q.overflow_after), 'overflow|' .. cid)
    end
    trail(cid, 'queued queue=' .. queue .. ' lang=' .. lang .. ' why=new')
    event('contact.queued', cid, '', 'queued', queue, 'why=new')
  end
  -- The wait is estimated once the batch's queue members are written (below).
  WAITING[#WAITING + 1] = { i, cid, queue, lang }
  return { 0, '', '', 'queued', EVENTS, cid, 0, 0, index, cust }
end

local results = { 0, '', '', '', '', M }
for i, A in ipairs(items) do
  EVENTS = {}
  results[6 + i] = intake_one(i, A)
end

-- The batch's shared writes, then the revs of its events and its trails.
if #NEW_IDS > 0 then
  redis.call('MSET', unpack(NEW_IDS))
end
for _, set in ipairs({ INDEX, QUEUED, TIMERS }) do
  for _, k in ipairs(set) do
    redis.call('ZADD', k, unpack(set[k]))
  end
end
flush()

-- Estimated wait: contacts ahead, shared by the staff of the queue, times a recent handle.
for _, w in ipairs(WAITING) do
  local ahead = redis.call('ZRANK', queue_key(w[3], w[4]), w[2]) or 0
  local b = handle_basis(w[3])
  results[6 + w[1]][8] = math.floor((math.floor(ahead / b.staff) + 1) * b.handle)
end
return results
