-- propose: the agent proposes a resolution. The customer is asked to confirm; the contact
-- closes only when they do or when the tenant's confirmation window passes, never before.
-- The agent then owes a wrap-up for it.
-- KEYS[1] hk:{t}:contact:<id>   ARGV[4] agent id   ARGV[5] contact id
-- ARGV[6] command id (a resend returns the first answer)
local cached = cmd_begin(ARGV[6])
if cached then
  return cached
end
local aid, cid = ARGV[4], ARGV[5]
local a, c, refused = load_agent_contact(aid, cid)
if refused then
  return refused
end
if c.agent ~= aid then
  return result(E_NOT_YOURS, 'the contact is not held by you', display_state(a), c.state)
end
if c.state == 'resolution_proposed' then
  return result(E_OK, '', display_state(a), c.state)
end
if c.state ~= 'assigned' then
  return result(E_STATE, 'the contact is ' .. c.state, display_state(a), c.state)
end
local until_ = int(NOW + P.confirm)
redis.call('HSET', contact_key(cid), 'state', 'resolution_proposed', 'proposed_ms', NOW_TEXT,
  'confirm_until', until_)
timer_add('confirm', cid, until_)
agent_set(aid, a, { wrapping = num(a.wrapping) + 1 })
trail(cid, 'resolution_proposed agent=' .. aid .. ' confirm_until=' .. until_)
event('contact.resolution_proposed', cid, aid, 'resolution_proposed', c.queue,
  'confirm_until=' .. until_)
return result(E_OK, '', display_state(a), 'resolution_proposed')
