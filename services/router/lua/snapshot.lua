-- snapshot: the tenant's live state for dashboards, at one revision. Deltas published with a
-- rev at or below the snapshot's are already in it (zguide Clone).
-- KEYS[1] hk:{t}:rev   ARGV[4..] queue names of the policy
local out = { rev = tonumber(redis.call('GET', key('rev')) or '0'), at = NOW, queues = {}, agents = {} }
for i = 4, #ARGV do
  local queue = ARGV[i]
  local q = { name = queue, waiting = 0, oldest_ms = 0, staff = redis.call('SCARD', key('staff', queue)) }
  for _, lang in ipairs(LANGS) do
    local k = queue_key(queue, lang)
    q.waiting = q.waiting + redis.call('ZCARD', k)
    for _, cid in ipairs(redis.call('ZRANGE', k, 0, 0)) do
      local enq = num(redis.call('HGET', contact_key(cid), 'enq_ms'), NOW)
      if q.oldest_ms == 0 or enq < q.oldest_ms then
        q.oldest_ms = enq
      end
    end
  end
  out.queues[#out.queues + 1] = q
end
for _, aid in ipairs(redis.call('SMEMBERS', key('agents'))) do
  local a = hgetall(agent_key(aid))
  if a then
    out.agents[#out.agents + 1] = { id = aid, name = a.display_name or '', state = display_state(a),
      load = num(a.load), capacity = num(a.capacity, 100), since = num(a.state_since),
      reason = a.pause_reason or '', holding = redis.call('SCARD', key('agent', aid, 'contacts')) }
  end
end
-- Open callback promises (hetki-phone's hk:{t}:callbacks, by window end).
out.callbacks = redis.call('ZCARD', key('callbacks'))
out.critical = redis.call('LRANGE', key('critical'), -20, -1)
return cjson.encode(out)
