-- release_held: after a suspended tenant is active again, queues the contacts that were held
-- meanwhile, oldest first. Nothing was lost while suspended.
-- KEYS[1] hk:{t}:held   ARGV[4] at most this many   ARGV[5..] queue names by target
-- (voice, human_chat, async) of the current policy
local held = redis.call('ZRANGE', key('held'), 0, tonumber(ARGV[4]) - 1)
local by_target = { voice = ARGV[5], callback = ARGV[5], human_chat = ARGV[6], async = ARGV[7] }
local touched = {}
for _, cid in ipairs(held) do
  redis.call('ZREM', key('held'), cid)
  local c = load_contact(cid)
  if c and c.state == 'held' then
    local queue = by_target[c.target or 'async'] or ARGV[7]
    enqueue(cid, c, queue, 'tenant_active')
    touched[queue] = true
  end
end
for queue in pairs(touched) do
  match(queue, 20)
end
flush()
return { 0, '', '', '', EVENTS, #held }
