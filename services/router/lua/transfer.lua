-- transfer: the agent holding a contact hands it to a queue or to another agent, with a note.
-- KEYS[1] hk:{t}:contact:<id>   ARGV[4] agent id   ARGV[5] contact id   ARGV[6] queue or ''
-- ARGV[7] target agent or ''   ARGV[8] note
-- ARGV[9] command id (a resend returns the first answer)
local cached = cmd_begin(ARGV[9])
if cached then
  return cached
end
local aid, cid, to_queue, to_agent, note = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local a, c, refused = load_agent_contact(aid, cid)
if refused then
  return refused
end
if c.agent ~= aid or c.state ~= 'assigned' then
  return result(c.state == 'assigned' and E_NOT_YOURS or E_STATE,
    c.state == 'assigned' and 'the contact is held by another agent'
    or ('the contact is ' .. c.state .. ', not assigned to you'), display_state(a), c.state)
end
if to_queue ~= '' and not P.queues[to_queue] then
  return result(E_NOT_FOUND, 'unknown queue ' .. to_queue, display_state(a), c.state)
end
if to_agent ~= '' then
  local b = hgetall(agent_key(to_agent))
  if not b then
    return result(E_NOT_FOUND, 'unknown agent ' .. to_agent, display_state(a), c.state)
  end
  if to_agent == aid then
    return result(E_INVALID, 'cannot transfer to yourself', display_state(a), c.state)
  end
  if b.state ~= 'available' or num(b.capacity, 100) - num(b.load) < num(c.cost, P.min_cost) then
    return result(E_CAPACITY, 'agent ' .. to_agent .. ' has no room now', display_state(a), c.state)
  end
end
a = release(cid, c, aid)
redis.call('HSET', contact_key(cid), 'agent', '', 'note', note)
trail(cid, 'transferred from=' .. aid .. ' to=' .. (to_agent ~= '' and ('agent:' .. to_agent)
  or ('queue:' .. to_queue)) .. ' note=' .. string.gsub(note, '%s', '_'))
event('contact.transferred', cid, aid, '', to_queue, 'to_agent=' .. to_agent)
if to_agent ~= '' then
  make_offer(cid, to_agent, 'transfer')
else
  -- Handed on to a queue: someone else should take it, so the agent who passed it is not
  -- offered it again for a while (as after a decline).
  remember_decline(cid, aid)
  enqueue(cid, c, to_queue, 'transfer')
  match(to_queue, 5)
end
match_for_agent(a)
return result(E_OK, '', display_state(a), redis.call('HGET', contact_key(cid), 'state'))
