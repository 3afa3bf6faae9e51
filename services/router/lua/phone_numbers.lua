-- phone_numbers: gives a tenant the phone numbers its policy lists ([phone] numbers), in one
-- atomic step (`hetki policy load`). A number belongs to one tenant only: when another
-- tenant already has one of them nothing changes and the owner is returned. Numbers the
-- tenant had before and no longer lists are let go.
--   KEYS[1]  hk:{phone}:numbers   hash: number -> tenant (hetki-phone reads it)
--            hk:{phone}:tenant:<t> set: the numbers of tenant t (same slot)
--   ARGV[1..3] now, '{}', caller (the routing scripts' convention; unused)
--   ARGV[4]  the tenant   ARGV[5..] its numbers, normalised (rt_policy_phone_number)
-- Returns { 0, '', '' } or { 1, number, owner } on a conflict.
do
  local tenant = ARGV[4]
  for i = 5, #ARGV do
    local owner = redis.call('HGET', KEYS[1], ARGV[i])
    if owner and owner ~= tenant then
      return { 1, ARGV[i], owner }
    end
  end
  local wanted = {}
  for i = 5, #ARGV do
    wanted[ARGV[i]] = true
  end
  local mine = key('tenant', tenant)
  for _, n in ipairs(redis.call('SMEMBERS', mine)) do
    if not wanted[n] and redis.call('HGET', KEYS[1], n) == tenant then
      redis.call('HDEL', KEYS[1], n)
    end
  end
  redis.call('DEL', mine)
  for i = 5, #ARGV do
    redis.call('HSET', KEYS[1], ARGV[i], tenant)
    redis.call('SADD', mine, ARGV[i])
  end
  return { 0, '', '' }
end
