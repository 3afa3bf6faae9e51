-- view: the figures the router's snapshot has not: per queue the estimated wait of a new
-- contact and the service level of the last hour (read only). The router's _prelude.lua is
-- in front.
-- KEYS[1] hk:{t}:rev   ARGV[4] default handle time ms   ARGV[5..] pairs of queue name and its
-- target answer ms. Returns JSON {rev, queues: {name: {est_wait_s, answered, within_target}}}.
-- Service level: of the contacts received in the last hour (at most the latest 2,000), those
-- of the queue that were answered (accepted) or still wait beyond the target; within target:
-- answered no later than the target after they were queued.
local default_handle = num(ARGV[4], 180000)
local out = { rev = num(redis.call('GET', key('rev'))), queues = {} }
local targets = {}
for i = 5, #ARGV - 1, 2 do
  local queue, target = ARGV[i], num(ARGV[i + 1])
  targets[queue] = target
  local waiting = 0
  for _, lang in ipairs(LANGS) do
    waiting = waiting + redis.call('ZCARD', queue_key(queue, lang))
  end
  local staff = math.max(1, redis.call('SCARD', key('staff', queue)))
  local times = redis.call('LRANGE', key('ht', queue), 0, 19)
  local handle = default_handle
  if #times > 0 then
    local sum = 0
    for _, t in ipairs(times) do
      sum = sum + num(t)
    end
    handle = sum / #times
  end
  out.queues[queue] = { est_wait_s = math.floor((math.floor(waiting / staff) + 1) * handle / 1000),
    answered = 0, within_target = 0 }
end
for _, cid in ipairs(redis.call('ZREVRANGEBYSCORE', key('contacts'), NOW, NOW - 3600000,
    'LIMIT', 0, 2000)) do
  local f = redis.call('HMGET', contact_key(cid), 'queue', 'enq_ms', 'assigned_ms', 'state')
  local q = f[1] and out.queues[f[1]]
  if q then
    local target, enq, assigned = targets[f[1]], num(f[2]), num(f[3])
    if assigned > 0 then
      q.answered = q.answered + 1
      if assigned - enq <= target then
        q.within_target = q.within_target + 1
      end
    elseif (f[4] == 'queued' or f[4] == 'offered') and NOW - enq > target then
      q.answered = q.answered + 1
    end
  end
end
return cjson.encode(out)
