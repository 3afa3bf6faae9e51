-- agent_state: an agent goes available, pauses (with a reason) or goes offline.
-- KEYS[1] hk:{t}:agent:<id>   ARGV[4] agent id   ARGV[5] available|paused|offline
-- ARGV[6] pause reason
-- ARGV[7] command id (a resend returns the first answer)
local cached = cmd_begin(ARGV[7])
if cached then
  return cached
end
local aid, want, reason = ARGV[4], ARGV[5], ARGV[6]
local a = hgetall(agent_key(aid))
if not a then
  return result(E_NOT_FOUND, 'unknown agent ' .. aid)
end
if want == 'available' and num(a.recovery_until) > NOW then
  return result(E_STATE, 'recovery pause until ' .. a.recovery_until .. ' (unix ms)', display_state(a))
end
if want == 'offline' and redis.call('SCARD', key('agent', aid, 'contacts')) > 0 then
  return result(E_STATE, 'finish or transfer your contacts before going offline', display_state(a))
end
if want == 'paused' and a.state == 'offline' then
  return result(E_STATE, 'go available before pausing', display_state(a))
end
local fields = { state = want, state_since = NOW, pause_reason = want == 'paused' and reason or '' }
if want == 'available' then
  fields.nr = 0
  if num(a.load) == 0 and a.state ~= 'available' then
    fields.idle_since = NOW
  end
end
agent_set(aid, a, occ_fields(a, fields))
avail_refresh(aid, a)
for _, queue in ipairs(elig_queues(a)) do
  local staff = key('staff', queue)
  if want == 'offline' then
    redis.call('SREM', staff, aid)
  else
    redis.call('SADD', staff, aid)
  end
end
if want == 'available' then
  match_for_agent(a)
  a = hgetall(agent_key(aid)) -- an offer made just now shows as busy
end
event('agent.state', '', aid, display_state(a), '', reason ~= '' and ('reason=' .. reason) or '')
return result(E_OK, '', display_state(a), '')
