-- timers: claims the tenant's due timers (offer leases, overflows, confirmation windows,
-- recovery pauses, follow-ups, the end of a decline's memory, an agent's occupancy falling to
-- the cap) and applies them. Any replica may run it; claiming and applying is one atomic
-- step, so each timer fires exactly once and a lease left behind by a dead replica still
-- expires. Returns { 0, '', '', '', events, timers fired }.
-- KEYS[1] hk:{t}:timers   ARGV[4] at most this many timers
-- The availability sets were kept per queue and language before they were kept per queue:
-- the first call of this release for a tenant rebuilds them from the agents (and drops the
-- old sets), so that agents available during the upgrade are matched.
if redis.call('GET', key('avail_v')) ~= '2' then
  local dropped = {}
  for _, aid in ipairs(redis.call('SMEMBERS', key('agents'))) do
    local a = hgetall(agent_key(aid))
    if a then
      for pair in string.gmatch(a.elig or '', '%S+') do
        if not dropped[pair] then
          dropped[pair] = true
          redis.call('DEL', key('avail', pair))
        end
      end
      avail_refresh(aid, a)
    end
  end
  redis.call('SET', key('avail_v'), '2')
end

local due = redis.call('ZRANGEBYSCORE', key('timers'), '-inf', NOW_TEXT, 'LIMIT', '0', ARGV[4])
for _, member in ipairs(due) do
  redis.call('ZREM', key('timers'), member)
  local kind, id = string.match(member, '^([^|]+)|(.*)$')
  local c = (kind ~= 'recovery' and kind ~= 'occ') and load_contact(id) or nil
  if kind == 'lease' and c and c.state == 'offered' and num(c.offer_until) <= NOW then
    local aid = c.offer_agent
    local a = release(id, c, aid)
    remember_decline(id, aid)
    trail(id, 'offer_timeout agent=' .. aid)
    event('contact.offer_timeout', id, aid, 'queued', c.queue, '')
    if a then
      local nr = num(a.nr) + 1
      agent_set(aid, a, { nr = nr })
      if nr >= P.nr_after and a.state == 'available' then
        agent_set(aid, a, { state = 'not_responding', state_since = NOW })
        avail_refresh(aid, a)
        event('agent.state', '', aid, 'not_responding', '', 'timeouts=' .. nr)
      end
    end
    enqueue(id, c, c.queue, 'offer_timeout')
    match(c.queue, 5)
  elseif kind == 'overflow' and c and c.state == 'queued' then
    local q = P.queues[c.queue]
    if q and q.overflow_to ~= '' then
      dequeue(id, c)
      redis.call('HSET', contact_key(id), 'overflowed_from', c.queue)
      c.overflowed_from = c.queue
      event('contact.overflow', id, '', 'queued', q.overflow_to, 'from=' .. c.queue)
      enqueue(id, c, q.overflow_to, 'overflow_from_' .. c.queue)
      match(q.overflow_to, 5)
    end
  elseif kind == 'confirm' and c and c.state == 'resolution_proposed' then
    close_contact(id, c, 'confirmation_window_passed')
  elseif kind == 'recovery' then
    local a = hgetall(agent_key(id))
    if a and a.state == 'paused' and a.pause_reason == 'recovery' and num(a.recovery_until) <= NOW then
      agent_set(id, a, { state = 'available', pause_reason = '', state_since = NOW })
      avail_refresh(id, a)
      event('agent.state', '', id, display_state(a), '', 'recovery_over')
      match_for_agent(a)
    end
  elseif kind == 'rematch' and c and c.state == 'queued' then
    -- An agent's memory of declining this contact ended: it may be offered it again. Should
    -- the contact still wait, the next agent's memory of it ends later.
    match(c.queue, 5)
    local later = redis.call('ZRANGEBYSCORE', key('declined', id),
      '(' .. int(NOW - P.decline_memory), '+inf', 'WITHSCORES', 'LIMIT', '0', '1')
    if later[2] and redis.call('HGET', contact_key(id), 'state') == 'queued' then
      timer_add('rematch', id, int(tonumber(later[2]) + P.decline_memory))
    end
  elseif kind == 'occ' then
    -- The agent's occupancy has fallen to the cap: it may be offered work again.
    local a = hgetall(agent_key(id))
    if a and a.state == 'available' then
      avail_refresh(id, a) -- arms the timer again should it still be above the cap
      match_for_agent(a)
    end
  elseif kind == 'followup' and c and c.state == 'closed' then
    redis.call('HSET', contact_key(id), 'followup_due_ms', NOW_TEXT)
    redis.call('ZADD', key('followups'), NOW_TEXT, id)
    trail(id, 'followup_due')
    event('contact.followup_due', id, '', 'closed', c.queue, '')
  end
end
flush()
return { 0, '', '', '', EVENTS, #due }
