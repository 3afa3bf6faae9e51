-- promise_due: the callback promises' timer, claimed by whichever hetki-phone replica polls
-- first (every change happens here, atomically, so each due entry is handled once). For each
-- promise whose time came: a pending one whose window ended is broken (window_passed); a
-- parked one whose retry time came is due (the router queues the contact again); an attempt
-- whose claim lapsed (its replica died) counts as unanswered (retry or broken). Other entries
-- are put back at their next time; ended promises are dropped.
-- KEYS[1] hk:{t}:promise_due   ARGV[1] now   ARGV[2] at most this many
-- Returns a flat list: contact, action (broken, due, retry), detail, agent, ...
local T = string.match(KEYS[1], '^(hk:{[^}]*}:)')
local now = tonumber(ARGV[1])
local out = {}
for _, cid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, ARGV[2])) do
  local pk = T .. 'promise:' .. cid
  local flat = redis.call('HGETALL', pk)
  local p = {}
  for i = 1, #flat, 2 do
    p[flat[i]] = flat[i + 1]
  end
  local function broken(reason, attempts)
    redis.call('HSET', pk, 'status', 'broken', 'broken_ms', now, 'broken_reason', reason,
      'attempts', attempts, 'claimed_by', '')
    redis.call('ZREM', KEYS[1], cid)
    redis.call('ZREM', T .. 'callbacks', cid)
    out[#out + 1], out[#out + 2] = cid, 'broken'
    out[#out + 1] = 'reason=' .. reason .. ' attempts=' .. attempts .. '/' .. p.max_attempts
    out[#out + 1] = p.agent or ''
  end
  if #flat == 0 or p.status == 'kept' or p.status == 'broken' then
    redis.call('ZREM', KEYS[1], cid)
    redis.call('ZREM', T .. 'callbacks', cid)
  elseif p.status == 'dialing' then
    if now >= tonumber(p.claim_until) then
      local attempts = tonumber(p.attempts) + 1
      local next_at = now + tonumber(p.retry_after)
      if attempts >= tonumber(p.max_attempts) then
        broken('attempts_used', attempts)
      elseif next_at >= tonumber(p.window_end) then
        broken('no_time_left', attempts)
      else
        redis.call('HSET', pk, 'status', 'pending', 'attempts', attempts, 'parked', 1, 'next_at',
          next_at, 'claimed_by', '', 'claim_until', 0, 'last_result', 'claim_expired')
        redis.call('ZADD', KEYS[1], next_at, cid)
        out[#out + 1], out[#out + 2] = cid, 'retry'
        out[#out + 1] = 'attempt=' .. attempts .. '/' .. p.max_attempts .. ' next=' .. next_at ..
          ' reason=claim_expired'
        out[#out + 1] = p.agent or ''
      end
    else
      redis.call('ZADD', KEYS[1], p.claim_until, cid)
    end
  elseif now >= tonumber(p.window_end) then
    broken('window_passed', tonumber(p.attempts))
  elseif p.parked == '1' and now >= tonumber(p.next_at) then
    redis.call('HSET', pk, 'parked', 0)
    redis.call('ZADD', KEYS[1], p.window_end, cid)
    out[#out + 1], out[#out + 2] = cid, 'due'
    out[#out + 1] = 'attempt=' .. (tonumber(p.attempts) + 1) .. '/' .. p.max_attempts
    out[#out + 1] = ''
  else
    redis.call('ZADD', KEYS[1], p.parked == '1' and p.next_at or p.window_end, cid)
  end
end
return out
