-- promise_claim: one replica claims the next attempt of a promise for the agent the router has
-- just offered the contact to. Only while the promise is pending (not waiting for its retry
-- time), inside its window, and while the contact is offered to that agent; the claim lasts
-- claim ms, after which the due timer counts the attempt as unanswered (a replica that died).
-- KEYS[1] hk:{t}:promise:<contact>
-- ARGV[1] now  ARGV[2] contact id  ARGV[3] agent  ARGV[4] this replica  ARGV[5] claim ms
-- Returns { 0, 'claimed', field, value, ... } or { code, why, field, value, ... }: 1 no promise,
-- 2 not possible now (why: status_<s>, window_passed, not_due, not_offered), 3 no promise but
-- the contact's target is callback (why: no_promise_callback).
local T = string.match(KEYS[1], '^(hk:{[^}]*}:)')
local now, cid, aid = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then
  -- A contact routed to a callback whose promise was never made (its contact.received event
  -- was missed): the caller makes it and claims again.
  if redis.call('HGET', T .. 'contact:' .. cid, 'target') == 'callback' then
    return { 3, 'no_promise_callback' }
  end
  return { 1, 'no_promise' }
end
local p = {}
for i = 1, #flat, 2 do
  p[flat[i]] = flat[i + 1]
end
local function refuse(why)
  return { 2, why, unpack(flat) }
end
if p.status ~= 'pending' then
  return refuse('status_' .. p.status)
end
if now >= tonumber(p.window_end) then
  return refuse('window_passed')
end
if p.parked == '1' and now < tonumber(p.next_at) then
  return refuse('not_due')
end
local off = redis.call('HMGET', T .. 'contact:' .. cid, 'state', 'offer_agent')
if off[1] ~= 'offered' or off[2] ~= aid then
  return refuse('not_offered')
end
local until_ = now + tonumber(ARGV[5])
redis.call('HSET', KEYS[1], 'status', 'dialing', 'parked', 0, 'agent', aid, 'claimed_by', ARGV[4],
  'claim_until', until_, 'claimed_ms', now)
redis.call('ZADD', T .. 'promise_due', until_, cid)
return { 0, 'claimed', unpack(redis.call('HGETALL', KEYS[1])) }
