-- customer_flag: sets or clears a customer's flags (vulnerable, VIP), found by one of their
-- identities; a customer not seen yet is created and linked, so the flag applies to their
-- very first contact. Classification reads the flags at intake.
-- KEYS[1] hk:{t}:cust:<kind>:<value>   ARGV[4] new customer id   ARGV[5] kind   ARGV[6] value
-- ARGV[7] vulnerable '1' | '0' | '' (unchanged)   ARGV[8] vip '1' | '0' | ''
-- Returns { 0, '', '', '', events, customer id, vulnerable, vip }.
local cust = redis.call('GET', key('cust', ARGV[5], ARGV[6]))
if not cust then
  cust = ARGV[4]
  redis.call('SET', key('cust', ARGV[5], ARGV[6]), cust)
  redis.call('HSET', key('customer', cust), 'id', cust, 'created_ms', NOW, ARGV[5], ARGV[6])
end
local ck = key('customer', cust)
if ARGV[7] ~= '' then
  redis.call('HSET', ck, 'vulnerable', ARGV[7])
end
if ARGV[8] ~= '' then
  redis.call('HSET', ck, 'vip', ARGV[8])
end
local f = redis.call('HMGET', ck, 'vulnerable', 'vip')
event('customer.flags', '', '', '', '', 'customer=' .. cust .. ' vulnerable=' .. (f[1] or '0') ..
  ' vip=' .. (f[2] or '0'))
flush()
return { 0, '', '', '', EVENTS, cust, f[1] or '0', f[2] or '0' }
