-- outbox_received: the widget has shown an agent message; it leaves the session's outbox.
-- The outbox holds the router's message JSON, so the entry is found by its "id".
-- KEYS[1] hk:{t}:outbox:<session>  ARGV[1] message id
-- Returns the number of entries removed (0 when it was removed before).
local removed = 0
for _, item in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local ok, m = pcall(cjson.decode, item)
  if ok and type(m) == 'table' and m.id == ARGV[1] then
    removed = removed + redis.call('LREM', KEYS[1], 0, item)
  end
end
return removed
