-- wrapup: the agent finishes its work on a contact with a wrap-up code; its capacity is freed.
-- A contact marked distressing sends the agent into a recovery pause.
-- KEYS[1] hk:{t}:contact:<id>   ARGV[4] agent id   ARGV[5] contact id   ARGV[6] wrap-up code
-- ARGV[7] distressing 0|1
-- ARGV[8] command id (a resend returns the first answer)
local cached = cmd_begin(ARGV[8])
if cached then
  return cached
end
local aid, cid, code, distressing = ARGV[4], ARGV[5], ARGV[6], ARGV[7] == '1'
local a, c, refused = load_agent_contact(aid, cid)
if refused then
  return refused
end
if redis.call('SISMEMBER', key('agent', aid, 'contacts'), cid) == 0 then
  return result(E_NOT_YOURS, 'the contact is not held by you', display_state(a), c.state)
end
if c.state ~= 'resolution_proposed' and c.state ~= 'closed' then
  return result(E_STATE, 'propose a resolution (or transfer) before wrapping up',
    display_state(a), c.state)
end
a = release(cid, c, aid, a, { wrapping = math.max(0, num(a.wrapping) - 1) })
redis.call('HSET', contact_key(cid), 'wrap_code', code, 'wrapped_ms', NOW_TEXT)
local handle = int(NOW - num(c.assigned_ms, NOW))
if redis.call('LPUSH', key('ht', c.queue), handle) > 100 then -- keep the latest 50 to 100
  redis.call('LTRIM', key('ht', c.queue), '0', '49')
end
trail(cid, 'wrapped_up agent=' .. aid .. ' code=' .. code .. ' handle_ms=' .. handle ..
  (distressing and ' distressing=1' or ''))
if distressing then
  local until_ = int(NOW + P.recovery)
  agent_set(aid, a, { state = 'paused', pause_reason = 'recovery', recovery_until = until_,
    state_since = NOW })
  avail_refresh(aid, a)
  timer_add('recovery', aid, until_)
  event('agent.state', '', aid, 'paused', '', 'reason=recovery until=' .. until_)
else
  event('agent.state', '', aid, display_state(a), '', 'wrapped=' .. cid)
  match_for_agent(a)
end
return result(E_OK, '', display_state(a), c.state)
