-- promise_result: what a claimed attempt came to. connected: kept. agent_failed: the agent's
-- phone failed before the customer was called; pending again, no attempt counted. no_answer:
-- an attempt is counted; when none is left, or the next would not fit in the window, the
-- promise is broken, else it waits retry_after ms (parked) before the router may offer it again.
-- KEYS[1] hk:{t}:promise:<contact>
-- ARGV[1] now  ARGV[2] contact id  ARGV[3] connected|no_answer|agent_failed  ARGV[4] replica
-- ARGV[5] detail (recorded as last_result)
-- Returns { 0, action, field, value, ... } with action kept, pending, retry or broken, or
-- { code, why, ... }: 1 no promise, 2 not claimed by this replica (why: status_<s>, not_yours).
local T = string.match(KEYS[1], '^(hk:{[^}]*}:)')
local now, cid, what = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local flat = redis.call('HGETALL', KEYS[1])
if #flat == 0 then
  return { 1, 'no_promise' }
end
local p = {}
for i = 1, #flat, 2 do
  p[flat[i]] = flat[i + 1]
end
if p.status ~= 'dialing' then
  return { 2, 'status_' .. p.status, unpack(flat) }
end
if p.claimed_by ~= ARGV[4] then
  return { 2, 'not_yours', unpack(flat) }
end
local due = T .. 'promise_due'
local action
if what == 'connected' then
  redis.call('HSET', KEYS[1], 'status', 'kept', 'kept_ms', now, 'claimed_by', '',
    'last_result', ARGV[5])
  redis.call('ZREM', due, cid)
  redis.call('ZREM', T .. 'callbacks', cid)
  action = 'kept'
elseif what == 'agent_failed' then
  redis.call('HSET', KEYS[1], 'status', 'pending', 'claimed_by', '', 'claim_until', 0,
    'last_result', ARGV[5])
  redis.call('ZADD', due, p.window_end, cid)
  action = 'pending'
else
  local attempts = tonumber(p.attempts) + 1
  local next_at = now + tonumber(p.retry_after)
  if attempts >= tonumber(p.max_attempts) or next_at >= tonumber(p.window_end) then
    redis.call('HSET', KEYS[1], 'status', 'broken', 'attempts', attempts, 'broken_ms', now,
      'broken_reason', attempts >= tonumber(p.max_attempts) and 'attempts_used' or 'no_time_left',
      'claimed_by', '', 'last_result', ARGV[5])
    redis.call('ZREM', due, cid)
    redis.call('ZREM', T .. 'callbacks', cid)
    action = 'broken'
  else
    redis.call('HSET', KEYS[1], 'status', 'pending', 'attempts', attempts, 'parked', 1,
      'next_at', next_at, 'claimed_by', '', 'claim_until', 0, 'last_result', ARGV[5])
    redis.call('ZADD', due, next_at, cid)
    action = 'retry'
  end
end
return { 0, action, unpack(redis.call('HGETALL', KEYS[1])) }
