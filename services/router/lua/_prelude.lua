-- _prelude: helpers shared by the routing scripts. The build (cmake/embed_lua.cmake) makes one
-- Redis function library of this text and every script: each script is a function of that
-- library, called with FCALL, so every transition is still one atomic call, and this text
-- (its ~45 functions) is instantiated once when the library is loaded instead of on every
-- call. Each script's body starts with begin(KEYS, ARGV), which sets the per-call state below.
-- (The build also makes each script an EVAL-able text: this prelude, begin, the body.)
--
-- Conventions for every routing script:
--   KEYS[1]  any key of the tenant (hk:{t}:...): its hash tag routes the script; every key the
--            script touches is derived inside that hash tag, so it stays in one cluster slot.
--   ARGV[1]  now, unix ms (the router's clock: real or virtual)
--   ARGV[2]  the tenant's policy numbers as JSON (see rt_engine.c, s_params_json)
--   ARGV[3]  the calling router instance (for the trail)
-- Scripts return { error code, error text, agent state, contact state, events, ... } where
-- error code 0 is success and the events (an array of event arrays, see event) are published
-- by the caller.

-- Per-call state, set by begin: the tenant's key prefix, the time, the policy numbers, the
-- calling router, the sender of a command (ARGV[4] of command scripts), the events and writes
-- gathered for the end of the call.
local T, NOW, NOW_TEXT, P, ROUTER, SENDER
local EVENTS, PENDING_EVENTS, TRAILS, CMD_ID

-- The policy numbers, decoded on first use (scripts that need none skip the cost) and kept
-- by their JSON text while the library stays loaded: the same policy is decoded once, not
-- on every call. Scripts only read P.
local P_DECODED, P_CACHED = {}, 0
local function policy(json)
  local p = P_DECODED[json]
  if p then
    return p
  end
  return setmetatable({}, { __index = function(t, k)
    setmetatable(t, nil)
    for name, value in pairs(cjson.decode(json)) do
      rawset(t, name, value)
    end
    if P_CACHED >= 64 then -- many tenants or policy versions: start over
      P_DECODED, P_CACHED = {}, 0
    end
    P_DECODED[json], P_CACHED = t, P_CACHED + 1
    return rawget(t, k)
  end })
end

local function begin(keys, argv)
  T = string.match(keys[1], '^(hk:{[^}]*}:)')
  NOW = tonumber(argv[1])
  NOW_TEXT = argv[1] -- for text: no number formatting
  P = policy(argv[2])
  ROUTER, SENDER = argv[3], argv[4]
  EVENTS, PENDING_EVENTS, TRAILS, CMD_ID = {}, {}, {}, ''
end

local LANGS = { 'fi', 'sv', 'en', 'any' }

-- A whole number (unix ms, a score, a count) as the text Redis stores. Redis formats a Lua
-- number argument with "%.17g" and Lua its own with "%.14g": both through the C library's
-- floating-point printing, thousands of instructions each; '%d' is the integer path.
-- (Globals such as string are not reachable while the library loads, only in calls.)
local function int(n)
  return string.format('%d', n)
end
local E_OK, E_INVALID, E_NOT_FOUND, E_NOT_YOURS, E_CAPACITY, E_STATE = 0, 1, 5, 6, 7, 8

-- hk:{t}:a[:b[:c[:d]]]: built without a table, since this runs for every key.
local function key(a, b, c, d)
  if d then
    return T .. a .. ':' .. b .. ':' .. c .. ':' .. d
  elseif c then
    return T .. a .. ':' .. b .. ':' .. c
  elseif b then
    return T .. a .. ':' .. b
  end
  return T .. a
end

local function hgetall(k)
  local flat = redis.call('HGETALL', k)
  if #flat == 0 then
    return nil
  end
  local h = {}
  for i = 1, #flat, 2 do
    h[flat[i]] = flat[i + 1]
  end
  return h
end

local function num(v, default)
  return tonumber(v) or default or 0
end

-- A change everyone watching the tenant should hear about; rev orders it against snapshots.
-- The revs of all the events of a call are taken with one INCRBY when the call ends (flush),
-- and the trail lines of each contact are written with one RPUSH: fewer Redis calls, the same
-- atomic step. EVENTS is what the script returns (contact_intake: one contact's events).
local function event(kind, cid, aid, state, queue, detail, payload)
  local e = { kind, cid or '', aid or '', state or '', queue or '', 0, detail or '', payload or '' }
  EVENTS[#EVENTS + 1] = e
  PENDING_EVENTS[#PENDING_EVENTS + 1] = e
end

-- Appends values to the list named name in lists, a table of lists that also keeps their
-- names in the order they were first used (lists[1], lists[2], ...): writes gathered for the
-- end of a call.
local function gather(lists, name, a, b)
  local list = lists[name]
  if not list then
    list = {}
    lists[name] = list
    lists[#lists + 1] = name
  end
  list[#list + 1] = a
  if b ~= nil then
    list[#list + 1] = b
  end
end

-- The decision trail of a contact (hetki explain), written by flush, at most 500 lines kept.
local function trail(cid, what)
  gather(TRAILS, cid, NOW_TEXT .. ' ' .. what)
end

-- Writes what the call gathered: the events' revs and the trails. Every script calls it
-- (through result or directly) before it encodes its events.
local function flush()
  local n = #PENDING_EVENTS
  if n > 0 then
    local last = redis.call('INCRBY', key('rev'), int(n))
    for i, e in ipairs(PENDING_EVENTS) do
      e[6] = last - n + i
    end
    PENDING_EVENTS = {}
  end
  for _, cid in ipairs(TRAILS) do
    local k = key('trail', cid)
    if redis.call('RPUSH', k, unpack(TRAILS[cid])) > 500 then
      redis.call('LTRIM', k, '-500', '-1')
    end
  end
  TRAILS = {}
end

-- A critical moment: a failed moment of truth worth a supervisor's attention.
local function critical(kind, cid, detail)
  redis.call('RPUSH', key('critical'),
    cjson.encode({ at = NOW, kind = kind, contact = cid, detail = detail or '' }))
  redis.call('LTRIM', key('critical'), '-10000', '-1')
  event('critical.' .. kind, cid, '', '', '', detail)
end

-- due: unix ms as text (int(ms)).
local function timer_add(kind, id, due)
  redis.call('ZADD', key('timers'), due, kind .. '|' .. id)
end

local function timer_del(kind, id)
  redis.call('ZREM', key('timers'), kind .. '|' .. id)
end

-- The agent declined (or let time out, or transferred away) the contact: it is not offered
-- the contact again for P.decline_memory ms. A rematch timer makes the contact matchable
-- again when that memory ends, since nothing else may happen then (the earliest end is
-- kept: 'LT'; timers.lua arms the next one).
local function remember_decline(cid, aid)
  redis.call('ZADD', key('declined', cid), NOW_TEXT, aid)
  redis.call('ZADD', key('timers'), 'LT', int(NOW + P.decline_memory), 'rematch|' .. cid)
end

-- Agents ---------------------------------------------------------------------------------

local function agent_key(aid)
  return key('agent', aid)
end

-- The agent fields the routing scripts read: every a.<field> in these scripts (the build's
-- test_contact_fields checks that). A script that changes an agent reads it with one HMGET of
-- them instead of an HGETALL of the whole hash (its profile among it); the first nine are what
-- matching and a change of load read (LOAD_FIELDS: find_agent, agent_load, avail_refresh).
local AGENT_FIELDS = { 'state', 'capacity', 'load', 'occ', 'occ_at', 'recovery_until', 'elig',
  'idle_since', 'last_offer_ms', 'wrapping', 'nr', 'state_saved', 'pause_reason', 'state_since',
  'display_name' }
local LOAD_FIELDS = {}
for i = 1, 9 do -- (a loop: unpack, like every global, is not reachable while the library loads)
  LOAD_FIELDS[i] = AGENT_FIELDS[i]
end

-- The agent as a table of fields (names from fields, AGENT_FIELDS when nil), or nil for an
-- unknown agent (every agent has a state).
local function load_agent(aid, fields)
  fields = fields or AGENT_FIELDS
  local v = redis.call('HMGET', agent_key(aid), unpack(fields))
  if not v[1] then
    return nil
  end
  local a = {}
  for i, f in ipairs(fields) do
    if v[i] then
      a[f] = v[i]
    end
  end
  return a
end

-- The state shown to people: available agents are busy while they hold work and in wrap-up
-- while a finished contact waits for its wrap-up code.
local function display_state(a)
  if a.state ~= 'available' then
    return a.state
  end
  if num(a.wrapping) > 0 then
    return 'wrap_up'
  end
  if num(a.load) > 0 then
    return 'busy'
  end
  return 'available'
end

-- Rolling occupancy: the agent's utilisation (load / capacity) averaged over recent time with
-- an exponential decay of time constant P.tau, as of NOW.
local function occ_now(occ, occ_at, load, capacity)
  local decay = math.exp(-math.max(0, NOW - num(occ_at, NOW)) / P.tau)
  return num(occ) * decay + (num(load) / num(capacity, 100)) * (1 - decay)
end

-- The occupancy as of NOW, added to fields (an agent_set's fields): written with the change
-- that makes it move.
local function occ_fields(a, fields)
  fields.occ = occ_now(a.occ, a.occ_at, a.load, a.capacity)
  fields.occ_at = NOW_TEXT
  return fields
end

-- The queues the agent may serve, each once, from its elig (queue:language pairs).
local function elig_queues(a)
  local queues, seen = {}, {}
  for queue in string.gmatch(a.elig or '', '(%S+):[^:%s]+') do
    if not seen[queue] then
      seen[queue] = true
      queues[#queues + 1] = queue
    end
  end
  return queues
end

-- Whether elig (queue:language pairs separated by blanks) holds pair.
local function elig_has(elig, pair)
  local at = 1
  while true do
    local from, to = string.find(elig, pair, at, true)
    if not from then
      return false
    end
    if (from == 1 or string.byte(elig, from - 1) == 32)
        and (to == #elig or string.byte(elig, to + 1) == 32) then
      return true
    end
    at = to + 1
  end
end

-- An open agent above the occupancy cap is matched again when its occupancy has fallen to
-- the cap (an occ timer), since nothing else may happen then. With the load held constant
-- the occupancy decays towards u = load / capacity: occ(NOW + dt) = u + (occ - u) e^(-dt/tau),
-- which reaches the cap k after dt = tau ln((occ - u) / (k - u)) when u < k. Every load or
-- state change comes through avail_refresh, which sets the timer for the agent's new state.
local function occ_timer(aid, a)
  local capacity = num(a.capacity, 100)
  local u, k = num(a.load) / capacity, P.occ_cap / 100
  if u >= k or num(a.occ) <= k then
    return -- never falls to the cap at this load, or never was above it (occ moves towards u)
  end
  local occ = occ_now(a.occ, a.occ_at, a.load, capacity)
  if occ > k then
    local due = NOW + P.tau * math.log((occ - u) / (k - u))
    timer_add('occ', aid, int(math.ceil(due) + 1))
  end
end

-- Puts the agent in (or takes it out of) the availability set of each queue it serves, which
-- matching reads: available, with room for the cheapest contact, and not in a recovery pause.
-- (One set per queue; the languages are checked on the agent, see find_agent.)
-- Order in the avail sets: idle agents first, longest idle first; then agents with work and
-- room (several chats), least loaded first, then longest since their last offer.
local function avail_refresh(aid, a)
  local room = num(a.capacity, 100) - num(a.load)
  local open = a.state == 'available' and room >= P.min_cost and num(a.recovery_until) <= NOW
  local score
  if open then
    score = num(a.idle_since, NOW)
    if num(a.load) > 0 then
      score = 2e15 + num(a.load) * 1e13 + num(a.last_offer_ms)
    end
    score = int(score)
    occ_timer(aid, a)
  end
  for _, queue in ipairs(elig_queues(a)) do
    if open then
      redis.call('ZADD', key('avail', queue), score, aid)
    else
      redis.call('ZREM', key('avail', queue), aid)
    end
  end
end

-- Sets the agent's fields, in a (the agent as read) and in Redis, with one HSET.
local function agent_set(aid, a, fields)
  local flat = {}
  for f, v in pairs(fields) do
    a[f] = v
    flat[#flat + 1] = f
    if type(v) == 'number' and v == math.floor(v) and math.abs(v) < 2 ^ 53 then
      flat[#flat + 1] = int(v)
    else
      flat[#flat + 1] = tostring(v)
    end
  end
  if #flat > 0 then
    redis.call('HSET', agent_key(aid), unpack(flat))
  end
end

-- Load changes go through here so that occupancy and availability stay right; fields (may be
-- nil) are further agent fields written with the load, in the same HSET.
local function agent_load(aid, a, delta, fields)
  fields = occ_fields(a, fields or {})
  local load = math.max(0, num(a.load) + delta)
  fields.load = load
  if delta < 0 and load == 0 then
    fields.idle_since = NOW_TEXT
  end
  agent_set(aid, a, fields)
  avail_refresh(aid, a)
end

-- Queues ---------------------------------------------------------------------------------

local function queue_key(queue, lang)
  return key('q', queue, lang)
end

local function contact_key(cid)
  return key('contact', cid)
end

-- The contact fields the routing scripts read: every c.<field> in these scripts (the build's
-- test_contact_fields checks that). A contact is read with one HMGET of them instead of an
-- HGETALL of its ~30 fields (the customer's text among them): in this Redis's Lua, building
-- the table of a whole contact costs several times the HMGET. nil for an unknown contact.
local CONTACT_FIELDS = { 'state', 'queue', 'agent', 'offer_agent', 'score', 'lang', 'cost',
  'customer', 'enq_ms', 'overflowed_from', 'chat_session', 'target', 'class', 'reasons',
  'offer_until', 'assigned_ms' }
local function load_contact(cid)
  local v = redis.call('HMGET', contact_key(cid), unpack(CONTACT_FIELDS))
  local c
  for i, f in ipairs(CONTACT_FIELDS) do
    if v[i] then
      c = c or {}
      c[f] = v[i]
    end
  end
  return c
end

-- Queue order: the score is the time waited plus the priority's head start, so that
-- waiting raises priority (aging): a contact of score s is served as if it had arrived
-- s * P.aging ms earlier.
local function enqueue(cid, c, queue, why)
  local lang = c.lang or 'any'
  local q = P.queues[queue]
  if lang ~= 'any' and q and not q.langs[lang] then
    lang = 'any' -- nobody in this queue speaks it: anyone there may take it
    c.lang = 'any'
    redis.call('HSET', contact_key(cid), 'lang', 'any')
  end
  local qscore = num(c.enq_ms, NOW) - num(c.score) * P.aging
  redis.call('ZADD', queue_key(queue, lang), int(qscore), cid)
  redis.call('HSET', contact_key(cid), 'state', 'queued', 'queue', queue, 'offer_agent', '',
    'agent', '')
  c.state, c.queue = 'queued', queue
  if q and q.overflow_to ~= '' and q.overflow_after > 0 and c.overflowed_from ~= queue then
    timer_add('overflow', cid, int(num(c.enq_ms, NOW) + q.overflow_after))
  end
  trail(cid, 'queued queue=' .. queue .. ' lang=' .. lang .. ' why=' .. why)
  event('contact.queued', cid, '', 'queued', queue, 'why=' .. why)
end

-- (Only a queue that overflows arms overflow timers; one armed under an older policy finds
-- the contact gone from its queue or the queue no longer overflowing, and does nothing.)
local function dequeue(cid, c)
  redis.call('ZREM', queue_key(c.queue or '', c.lang or 'any'), cid)
  local q = P.queues[c.queue or '']
  if not q or q.overflow_to ~= '' then
    timer_del('overflow', cid)
  end
end

-- Matching -------------------------------------------------------------------------------

-- The agents of an availability set read at a time: most often the first one matches.
local PAGES = { { '0', '9' }, { '10', '199' } }

-- The longest-idle agent that may take the contact now (and its LOAD_FIELDS), or nil: among
-- the first 200 of the queue's availability set, one that serves the contact's language in
-- this queue.
-- An agent that declined (or let time out) an offer of this contact is not asked again for
-- P.decline_memory ms, after which everyone may be asked again (nobody waits forever).
local function find_agent(queue, lang, cid, cost)
  local avail, pair, declined = key('avail', queue), queue .. ':' .. lang, key('declined', cid)
  for _, page in ipairs(PAGES) do
    local candidates = redis.call('ZRANGE', avail, page[1], page[2])
    for _, aid in ipairs(candidates) do
      local a = load_agent(aid, LOAD_FIELDS) or {}
      local room = num(a.capacity, 100) - num(a.load)
      if a.state == 'available' and room >= cost and num(a.recovery_until) <= NOW
          and occ_now(a.occ, a.occ_at, a.load, a.capacity) * 100 <= P.occ_cap
          and elig_has(a.elig or '', pair) then
        local when = redis.call('ZSCORE', declined, aid)
        if not when or NOW - tonumber(when) >= P.decline_memory then
          return aid, a
        end
      end
    end
    if #candidates <= tonumber(page[2]) - tonumber(page[1]) then
      return nil -- the set ended within this page
    end
  end
  return nil
end

-- Offers the contact to the agent; a is the agent's LOAD_FIELDS as find_agent read them (nil:
-- read here).
local function make_offer(cid, aid, why, a)
  local c = load_contact(cid)
  a = a or load_agent(aid, LOAD_FIELDS)
  dequeue(cid, c)
  local until_ = int(NOW + P.lease)
  redis.call('HSET', contact_key(cid), 'state', 'offered', 'offer_agent', aid, 'offer_until', until_)
  redis.call('SADD', key('agent', aid, 'contacts'), cid)
  agent_load(aid, a, num(c.cost, P.min_cost), { last_offer_ms = NOW_TEXT })
  timer_add('lease', cid, until_)
  trail(cid, 'offered agent=' .. aid .. ' lease_until=' .. until_ .. ' why=' .. why)
  -- The offer carries the customer and their latest other contacts, so the agent sees the
  -- history before accepting (details: hk:{t}:customer:<id> and each contact's hash).
  local history = {}
  if c.customer then
    for _, other in ipairs(redis.call('ZREVRANGE', key('customer', c.customer, 'contacts'), '0', '5')) do
      if other ~= cid and #history < 5 then
        history[#history + 1] = other
      end
    end
  end
  event('contact.offered', cid, aid, 'offered', c.queue, 'lease_until=' .. until_ ..
    ' customer=' .. (c.customer or '') .. ' history=' .. table.concat(history, ','))
end

-- Offers one newly queued contact at once when a free agent may take it. Enough at intake:
-- an agent that is free while a contact it may take waits is matched when it became free.
-- Returns the agent offered it, or nil.
local function match_contact(cid, c, queue)
  local aid, a = find_agent(queue, c.lang or 'any', cid, num(c.cost, P.min_cost))
  if aid then
    make_offer(cid, aid, 'match', a)
  end
  return aid
end

-- Offers queued contacts of queue to free agents, best contact first, up to limit offers.
-- Two calls tell when there is nothing to do: no contact waits, or no agent is available.
-- The first five contacts of each language (and their costs) are read once per call, and
-- again once all five were offered: an offer only takes its own contact out of the queues.
local function match(queue, limit)
  local queues = {}
  for i, lang in ipairs(LANGS) do
    queues[i] = queue_key(queue, lang)
  end
  if redis.call('EXISTS', unpack(queues)) == 0 then
    return 0
  end
  local heads, made = {}, 0
  while made < (limit or 20) do
    if redis.call('EXISTS', key('avail', queue)) == 0 then
      break
    end
    local best
    for i, lang in ipairs(LANGS) do
      local h = heads[i]
      if not h then
        h = {}
        local flat = redis.call('ZRANGE', queues[i], '0', '4', 'WITHSCORES')
        for j = 1, #flat, 2 do
          h[#h + 1] = { cid = flat[j], score = tonumber(flat[j + 1]) }
        end
        heads[i] = h
      end
      for j, head in ipairs(h) do
        if best and head.score >= best.score then
          break
        end
        head.cost = head.cost or num(redis.call('HGET', contact_key(head.cid), 'cost'), P.min_cost)
        local aid, a = find_agent(queue, lang, head.cid, head.cost)
        if aid then
          best = { cid = head.cid, aid = aid, a = a, score = head.score, i = i, j = j }
          break
        end
      end
    end
    if not best then
      break
    end
    make_offer(best.cid, best.aid, 'match', best.a)
    table.remove(heads[best.i], best.j)
    if #heads[best.i] == 0 then
      heads[best.i] = nil -- offered all five: read the next ones
    end
    made = made + 1
  end
  return made
end

-- Matches every queue the agent serves (after it gained room), offering up to as many
-- contacts per queue as the agent has room for (at least 5): an agent left with room while
-- contacts it may take wait would not be matched again until its load changed.
local function match_for_agent(a)
  local limit = math.max(5, math.floor((num(a.capacity, 100) - num(a.load)) / P.min_cost))
  for _, queue in ipairs(elig_queues(a)) do
    match(queue, limit)
  end
end

-- Commands carry an id; a resent command gets the first answer again (events not repeated).
-- The cache is per sender (ARGV[4]: the agent, or the contact for a customer's answer), so
-- one sender's id never answers for another.
local function cmd_begin(id)
  CMD_ID = id or ''
  if CMD_ID == '' then
    return nil
  end
  local cached = redis.call('GET', key('cmd', SENDER, CMD_ID))
  if cached then
    local r = cjson.decode(cached)
    r[5] = {}
    return r
  end
  return nil
end

-- The answer to a command; a command with an id keeps its answer for a day without the events
-- (a resend gets none, see cmd_begin).
local function result(code, text, astate, cstate)
  flush()
  local r = { code, text or '', astate or '', cstate or '', EVENTS }
  if CMD_ID ~= '' then
    redis.call('SET', key('cmd', SENDER, CMD_ID), cjson.encode({ r[1], r[2], r[3], r[4] }),
      'EX', '86400')
  end
  return r
end

-- Takes the contact away from the agent that was offered it or holds it. a is the agent as
-- read (nil: read here); fields (may be nil) are written with its load.
local function release(cid, c, aid, a, fields)
  a = a or hgetall(agent_key(aid))
  redis.call('SREM', key('agent', aid, 'contacts'), cid)
  if a then
    agent_load(aid, a, -num(c.cost, P.min_cost), fields)
  end
  if c.state == 'offered' then -- only an offer has a lease (accepting it ends the lease)
    timer_del('lease', cid)
  end
  return a
end

-- Closes a resolved contact and schedules its follow-up (1-2 weeks later, from the policy).
local function close_contact(cid, c, why)
  redis.call('HSET', contact_key(cid), 'state', 'closed', 'closed_ms', NOW_TEXT, 'closed_reason', why)
  timer_del('confirm', cid)
  local followup = int(NOW + P.followup)
  timer_add('followup', cid, followup)
  trail(cid, 'closed reason=' .. why .. ' followup_at=' .. followup)
  event('contact.closed', cid, c.agent, 'closed', c.queue, 'reason=' .. why)
end

-- The agent and the contact a command names, or a refusal when either is unknown (keys are
-- per tenant, so another tenant's contact is unknown here too).
local function load_agent_contact(aid, cid)
  local a = load_agent(aid)
  if not a then
    return nil, nil, result(E_NOT_FOUND, 'unknown agent ' .. aid)
  end
  local c = load_contact(cid)
  if not c then
    return a, nil, result(E_NOT_FOUND, 'unknown contact ' .. cid, display_state(a))
  end
  return a, c, nil
end
