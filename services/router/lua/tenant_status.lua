-- tenant_status: a supervisor switches the tenant between active and suspended (from
-- hetki-dashboard). The caller read the stored policy at version ARGV[7] and rewrote its
-- status into ARGV[8]; this stores that text as the next version unless someone stored another
-- version meanwhile (then it answers -1 and the caller reads again). Every replica's policy
-- store picks the version up; held contacts are released once the tenant is active again.
--   KEYS[1] hk:{t}:policy   ARGV[4] "tenant:<by>" (the sender, for the command cache)
--   ARGV[5] command id   ARGV[6] active|suspended   ARGV[7] the version read (0: none)
--   ARGV[8] the new policy text ('' when the status is already the one asked for)
-- Returns the command result { code, text, '', '', events } or { -1 } on a lost race.
local cached = cmd_begin(ARGV[5])
if cached then
  return cached
end
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[7]) then
  return { -1 }
end
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[1], 'version', version + 1, 'text', ARGV[8], 'loaded_at_ms', NOW,
    'source', 'dashboard ' .. string.sub(ARGV[4], 8))
  event('tenant.status', '', '', ARGV[6], '', 'by=' .. string.sub(ARGV[4], 8) .. ' version=' ..
    (version + 1))
end
return result(E_OK, '', '', '')
