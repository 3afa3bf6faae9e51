-- registry_list: the live instances, optionally of one service.
-- KEYS[1] hk:{registry}:instances   ARGV[1] service or ''   ARGV[2] key prefix of instance hashes
-- The instance hashes share KEYS[1]'s hash tag, so the script stays in one cluster slot.
-- Returns { now_ms, { field, value, ... }, ... } with one flat field list per live instance.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = { now }
local members = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
for _, member in ipairs(members) do
  local svc = string.match(member, '^([^/]+)/')
  if ARGV[1] == '' or svc == ARGV[1] then
    local h = redis.call('HGETALL', ARGV[2] .. member)
    if #h > 0 then
      out[#out + 1] = h
    end
  end
end
return out
