-- promise_create: a contact's callback promise, created once (idempotent by contact id).
-- The window is [now, now + window]; the promise waits for an agent (pending) and is looked at
-- by the due timer when its window ends. The number to call is the one given, else the
-- contact's phone number (the caller id, or the number typed in at a kiosk or form).
-- KEYS[1] hk:{t}:promise:<contact>
-- ARGV[1] now (unix ms)  ARGV[2] contact id  ARGV[3] phone or ''  ARGV[4] language or ''
-- ARGV[5] window ms  ARGV[6] attempts allowed  ARGV[7] retry after ms  ARGV[8] source
-- ARGV[9] the tenant's default language
-- Returns { 0, created 0|1, field, value, ... } or { code, text }: 1 unknown contact, 2 no
-- number to call (none, or not digits with an optional leading + after dropping blanks,
-- - . ( and )).
local T = string.match(KEYS[1], '^(hk:{[^}]*}:)')
local now, cid = tonumber(ARGV[1]), ARGV[2]
local existing = redis.call('HGETALL', KEYS[1])
if #existing > 0 then
  return { 0, 0, unpack(existing) }
end
local c = redis.call('HMGET', T .. 'contact:' .. cid, 'state', 'phone_number', 'entered_phone',
  'language')
if not c[1] then
  return { 1, 'unknown contact ' .. cid }
end
local phone = ARGV[3]
if phone == '' then
  phone = (c[2] and c[2] ~= '') and c[2] or ((c[3] and c[3] ~= '') and c[3] or '')
end
-- Written for reading ("+358 40 123 4567"): dialled as digits with an optional leading +.
phone = string.gsub(phone, '[%s%-%.%(%)]', '')
if not string.match(phone, '^%+?%d%d%d+$') or #phone > 16 then
  return { 2, 'the contact has no phone number to call' }
end
local lang = ARGV[4]
if lang == '' and c[4] then
  lang = string.lower(string.sub(c[4], 1, 2))
end
if lang ~= 'fi' and lang ~= 'sv' and lang ~= 'en' then
  lang = ARGV[9]
end
local window_end = now + tonumber(ARGV[5])
local fields = { 'contact', cid, 'phone', phone, 'language', lang, 'window_start', now,
  'window_end', window_end, 'attempts', 0, 'max_attempts', ARGV[6], 'retry_after', ARGV[7],
  'status', 'pending', 'parked', 0, 'next_at', now, 'created_ms', now, 'source', ARGV[8],
  'agent', '', 'claimed_by', '', 'claim_until', 0 }
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', T .. 'callbacks', window_end, cid)
redis.call('ZADD', T .. 'promise_due', window_end, cid)
return { 0, 1, unpack(redis.call('HGETALL', KEYS[1])) }
