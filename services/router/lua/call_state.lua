-- call_state: a call's state reported by hetki-phone (CallState). Any state is recorded on
-- the contact (call_state, call_state_ms, call_agent, call_gateway), appended to the trail and
-- published as call.<state>. The callback states also move the contact:
--   callback_promised  the contact has a callback promise (callback=pending; detail: window)
--   callback_retry     the customer did not answer: the agent offered or holding the contact
--                      is released and the contact waits (state callback_wait) until
--   callback_due       the retry time came: queued again in its queue, then matched
--   promise_kept       agent and customer are connected (callback=kept)
--   promise_broken     a critical moment (critical.broken_promise); the contact stops
--                      waiting for an agent (state callback_broken); an agent offered it or
--                      holding it (the last attempt's customer did not answer) is released
-- KEYS[1] hk:{t}:contact:<id>   ARGV[4] contact id   ARGV[5] state   ARGV[6] agent or ''
-- ARGV[7] detail   ARGV[8] gateway   ARGV[9] command id ('' = none; a resend returns the
-- first answer)
local cached = cmd_begin(ARGV[9])
if cached then
  return cached
end
local cid, state, aid, detail, gateway = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local c = load_contact(cid)
if not c then
  return result(E_NOT_FOUND, 'unknown contact ' .. cid)
end
local a
if aid ~= '' then
  a = hgetall(agent_key(aid))
  if not a then
    return result(E_NOT_FOUND, 'unknown agent ' .. aid, '', c.state)
  end
end

-- Takes the contact from the agent it is offered to or held by, and out of its queue.
local function let_go(why)
  local holder = (c.offer_agent or '') ~= '' and c.offer_agent or c.agent or ''
  local released
  if (c.state == 'offered' or c.state == 'assigned') and holder ~= '' then
    released = release(cid, c, holder)
    trail(cid, 'released agent=' .. holder .. ' why=' .. why)
    if aid == '' then
      aid, a = holder, released
    end
  elseif c.state == 'queued' then
    dequeue(cid, c)
  end
  return released
end

local released
local fields = { 'call_state', state, 'call_state_ms', NOW, 'call_agent', aid, 'call_gateway',
  gateway }
if state == 'callback_promised' then
  fields[#fields + 1], fields[#fields + 2] = 'callback', 'pending'
  fields[#fields + 1], fields[#fields + 2] = 'callback_detail', detail
elseif state == 'callback_retry' then
  if c.state == 'offered' or c.state == 'assigned' or c.state == 'queued' then
    released = let_go('callback_retry')
    c.state = 'callback_wait'
    fields[#fields + 1], fields[#fields + 2] = 'state', 'callback_wait'
    fields[#fields + 1], fields[#fields + 2] = 'offer_agent', ''
    fields[#fields + 1], fields[#fields + 2] = 'agent', ''
  end
  fields[#fields + 1], fields[#fields + 2] = 'callback', 'retry_wait'
elseif state == 'promise_kept' then
  fields[#fields + 1], fields[#fields + 2] = 'callback', 'kept'
elseif state == 'promise_broken' then
  if c.state == 'offered' or c.state == 'assigned' or c.state == 'queued' or
      c.state == 'callback_wait' then
    released = let_go('promise_broken')
    c.state = 'callback_broken'
    fields[#fields + 1], fields[#fields + 2] = 'state', 'callback_broken'
    fields[#fields + 1], fields[#fields + 2] = 'offer_agent', ''
    fields[#fields + 1], fields[#fields + 2] = 'agent', ''
  end
  fields[#fields + 1], fields[#fields + 2] = 'callback', 'broken'
end
redis.call('HSET', contact_key(cid), unpack(fields))
trail(cid, 'call state=' .. state .. (aid ~= '' and (' agent=' .. aid) or '') ..
  (gateway ~= '' and (' gateway=' .. gateway) or '') .. (detail ~= '' and (' ' .. detail) or ''))
event('call.' .. state, cid, aid, c.state, c.queue, detail)
if state == 'promise_broken' then
  critical('broken_promise', cid, 'customer=' .. (c.customer or '') .. ' ' .. detail)
end
if state == 'callback_due' and c.state == 'callback_wait' then
  redis.call('HSET', contact_key(cid), 'callback', 'pending')
  enqueue(cid, c, c.queue, 'callback_retry')
  match(c.queue, 5)
end
if released then
  match_for_agent(released)
end
local astate = ''
if aid ~= '' then
  astate = display_state(hgetall(agent_key(aid)) or {})
end
return result(E_OK, '', astate, redis.call('HGET', contact_key(cid), 'state') or '')
