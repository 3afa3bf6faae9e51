-- race_snapshot: one atomic read of a tenant's routing state for test_routing_race, so that
-- the invariants can be checked while routers keep running (no transition can interleave).
-- KEYS[1] the tenant's key prefix "hk:{t}:"
-- Returns { contacts, agents, queues }:
--   contacts: { id, state, agent, offer_agent, queue, lang, cost, wrap_code, id field, leased }
--   agents:   { id, load, capacity, { contact ids of its set } }
--   queues:   { key, { contact ids } }
local T = KEYS[1]
local contacts = {}
for _, cid in ipairs(redis.call('ZRANGE', T .. 'contacts', 0, -1)) do
  local h = redis.call('HMGET', T .. 'contact:' .. cid, 'state', 'agent', 'offer_agent', 'queue',
    'lang', 'cost', 'wrap_code', 'id')
  local row = { cid }
  for i = 1, 8 do
    row[#row + 1] = h[i] or ''
  end
  row[#row + 1] = redis.call('ZSCORE', T .. 'timers', 'lease|' .. cid) and '1' or '0'
  contacts[#contacts + 1] = row
end
local agents = {}
for _, aid in ipairs(redis.call('SMEMBERS', T .. 'agents')) do
  local h = redis.call('HMGET', T .. 'agent:' .. aid, 'load', 'capacity')
  agents[#agents + 1] = { aid, h[1] or '', h[2] or '',
    redis.call('SMEMBERS', T .. 'agent:' .. aid .. ':contacts') }
end
local queues = {}
local cursor = '0'
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', T .. 'q:*', 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do
    queues[#queues + 1] = { k, redis.call('ZRANGE', k, 0, -1) }
  end
until cursor == '0'
return { contacts, agents, queues }
