-- confirm: the customer answers a proposed resolution. Confirmed closes the contact (and
-- schedules the follow-up); not confirmed gives it back to the agent still holding it, or
-- puts it back in its queue ahead of newer contacts.
-- KEYS[1] hk:{t}:contact:<id>   ARGV[4] contact id   ARGV[5] confirmed 0|1   ARGV[6] text
-- ARGV[7] command id (a resend returns the first answer)
local cached = cmd_begin(ARGV[7])
if cached then
  return cached
end
local cid, confirmed = ARGV[4], ARGV[5] == '1'
local c = load_contact(cid)
if not c then
  return result(E_NOT_FOUND, 'unknown contact ' .. cid)
end
if c.state == 'closed' then
  return result(E_OK, '', '', 'closed')
end
if c.state ~= 'resolution_proposed' then
  return result(E_STATE, 'no resolution was proposed for this contact', '', c.state)
end
if confirmed then
  close_contact(cid, c, 'confirmed')
  return result(E_OK, '', '', 'closed')
end
timer_del('confirm', cid)
trail(cid, 'not_confirmed text=' .. string.gsub(string.sub(ARGV[6], 1, 80), '%s', '_'))
local holder = c.agent or ''
if holder ~= '' and redis.call('SISMEMBER', key('agent', holder, 'contacts'), cid) == 1 then
  local a = hgetall(agent_key(holder))
  agent_set(holder, a, { wrapping = math.max(0, num(a.wrapping) - 1) })
  redis.call('HSET', contact_key(cid), 'state', 'assigned')
  event('contact.reopened', cid, holder, 'assigned', c.queue, 'not_confirmed')
  return result(E_OK, '', display_state(a), 'assigned')
end
c.score = tostring(math.min(100, num(c.score) + 20))
redis.call('HSET', contact_key(cid), 'score', c.score, 'agent', '')
event('contact.reopened', cid, '', 'queued', c.queue, 'not_confirmed')
enqueue(cid, c, c.queue, 'not_confirmed')
match(c.queue, 5)
return result(E_OK, '', '', redis.call('HGET', contact_key(cid), 'state'))
