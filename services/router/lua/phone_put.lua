-- phone_put: replaces the phone settings hetki-phone reads for a tenant (`hetki policy load`,
-- after policy_put): the callback promise settings, the announcement language and the static
-- SIP URIs of agent phones, tagged with the policy version they came from.
--   KEYS[1]  hk:{t}:phone   hash: version, callback_window_ms, callback_attempts,
--            callback_retry_after_ms, callback_threshold_ms, language, agent:<id> -> SIP URI
--   ARGV[1..3] now, '{}', caller (the routing scripts' convention; unused)
--   ARGV[4]  the policy version   ARGV[5..] field, value pairs
-- Returns the number of fields written.
do
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'version', ARGV[4])
  for i = 5, #ARGV - 1, 2 do
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
  return (#ARGV - 4) / 2 + 1
end
