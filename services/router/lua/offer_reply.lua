-- offer_reply: the agent accepts or declines the offer of a contact. A declined contact goes
-- back to its queue (keeping its place) and is offered to the next agent; this one is not
-- asked again for P.decline_memory ms.
-- KEYS[1] hk:{t}:contact:<id>   ARGV[4] agent id   ARGV[5] contact id   ARGV[6] accept|decline
-- ARGV[7] command id (a resend returns the first answer)
local cached = cmd_begin(ARGV[7])
if cached then
  return cached
end
local aid, cid, what = ARGV[4], ARGV[5], ARGV[6]
local a, c, refused = load_agent_contact(aid, cid)
if refused then
  return refused
end
if what == 'accept' and c.state ~= 'offered' and c.agent == aid then
  return result(E_OK, '', display_state(a), c.state) -- accepted before: same answer
end
if c.state ~= 'offered' and (c.agent or '') ~= '' and c.agent ~= aid then
  return result(E_NOT_YOURS, 'the contact is held by another agent', display_state(a), c.state)
end
if c.state ~= 'offered' then
  return result(E_STATE, 'the contact is ' .. c.state .. ', not offered', display_state(a), c.state)
end
if c.offer_agent ~= aid then
  return result(E_NOT_YOURS, 'the contact is offered to another agent', display_state(a), c.state)
end
if what == 'accept' then
  timer_del('lease', cid)
  redis.call('HSET', contact_key(cid), 'state', 'assigned', 'agent', aid, 'offer_agent', '',
    'assigned_ms', NOW_TEXT)
  redis.call('DEL', key('declined', cid))
  if num(a.nr) ~= 0 then -- the timed-out offers in a row end here
    agent_set(aid, a, { nr = 0 })
  end
  trail(cid, 'accepted agent=' .. aid)
  event('contact.assigned', cid, aid, 'assigned', c.queue, '')
  return result(E_OK, '', display_state(a), 'assigned')
end
a = release(cid, c, aid, a)
remember_decline(cid, aid)
trail(cid, 'declined agent=' .. aid)
event('contact.declined', cid, aid, 'queued', c.queue, '')
enqueue(cid, c, c.queue, 'declined')
match(c.queue, 5)
match_for_agent(a)
return result(E_OK, '', display_state(a), redis.call('HGET', contact_key(cid), 'state'))
