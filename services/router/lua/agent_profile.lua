-- agent_profile: registers an agent or updates its profile; its state is kept (a new agent
-- starts offline). elig lists the queue:language pairs the agent may serve, computed by the
-- router from the agent's skills and languages and the tenant's policy.
-- KEYS[1] hk:{t}:agent:<id>
-- ARGV[4] agent id  ARGV[5] display name  ARGV[6] capacity  ARGV[7] skills "name:level ..."
-- ARGV[8] languages "fi en"  ARGV[9] channels "phone chat"  ARGV[10] elig "queue:lang ..."
local aid = ARGV[4]
local a = hgetall(agent_key(aid))
if a and num(a.load) > num(ARGV[6], 100) then
  return result(E_CAPACITY, 'capacity ' .. ARGV[6] .. ' is below the load the agent holds now ('
    .. a.load .. ')', display_state(a))
end
if a then
  -- Leave the sets of the old profile before joining the new ones.
  a.state_saved = a.state
  a.state = 'offline'
  avail_refresh(aid, a)
  for _, queue in ipairs(elig_queues(a)) do
    redis.call('SREM', key('staff', queue), aid)
  end
  a.state = a.state_saved
else
  a = { state = 'offline', load = 0, idle_since = NOW, state_since = NOW }
  redis.call('HSET', agent_key(aid), 'id', aid, 'state', 'offline', 'load', 0, 'idle_since', NOW,
    'state_since', NOW, 'nr', 0, 'wrapping', 0)
end
redis.call('SADD', key('agents'), aid)
agent_set(aid, a, { display_name = ARGV[5], capacity = ARGV[6], skills = ARGV[7],
  langs = ARGV[8], channels = ARGV[9], elig = ARGV[10] })
avail_refresh(aid, a)
if a.state ~= 'offline' then
  for _, queue in ipairs(elig_queues(a)) do
    redis.call('SADD', key('staff', queue), aid)
  end
  match_for_agent(a)
end
event('agent.profile', '', aid, display_state(a), '', 'capacity=' .. ARGV[6])
return result(E_OK, '', display_state(a), '')
