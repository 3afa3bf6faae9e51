-- contact_resolve: step 1 of intake. Answers a known dedupe key at once; otherwise links the
-- customer's identities to one customer (creating it on first sight) and returns the signals
-- classification needs from history. Counts are not touched here (contact_ingest does that),
-- so a resubmission never inflates a customer's history.
-- KEYS[1] hk:{t}:dedupe:<channel>:<key>
-- ARGV[4] new customer id   ARGV[5] repeat window ms   ARGV[6..] identity kind, value pairs
-- Returns { 'dup', contact id, class, score, target, queue, reasons, state }
--      or { 'new', customer id, first contact 0|1, repeat 0|1, vulnerable 0|1, vip 0|1 }
local existing = redis.call('GET', KEYS[1])
if existing then
  local h = redis.call('HMGET', contact_key(existing), 'class', 'score', 'target', 'queue',
    'reasons', 'state')
  return { 'dup', existing, h[1] or '', h[2] or '0', h[3] or '', h[4] or '', h[5] or '', h[6] or '' }
end
local cust
for i = 6, #ARGV - 1, 2 do
  cust = cust or redis.call('GET', key('cust', ARGV[i], ARGV[i + 1]))
end
if not cust then
  cust = ARGV[4]
  redis.call('HSET', key('customer', cust), 'id', cust, 'created_ms', NOW)
end
for i = 6, #ARGV - 1, 2 do
  redis.call('SET', key('cust', ARGV[i], ARGV[i + 1]), cust, 'NX')
  redis.call('HSETNX', key('customer', cust), ARGV[i], ARGV[i + 1])
end
local f = redis.call('HMGET', key('customer', cust), 'last_ms', 'vulnerable', 'vip')
local first = redis.call('ZCARD', key('customer', cust, 'contacts')) == 0 and 1 or 0
local repeat_ = (f[1] and NOW - tonumber(f[1]) <= tonumber(ARGV[5])) and 1 or 0
return { 'new', cust, first, repeat_, f[2] == '1' and 1 or 0, f[3] == '1' and 1 or 0 }
