-- session_open: stores a new chat session (docs/protocols/chat.md, "Keys").
-- KEYS[1] hk:{t}:chat:<session>
-- ARGV[1] tenant  ARGV[2] SHA-256 of the resume token (hex)  ARGV[3] lang  ARGV[4] now (ms)
-- ARGV[5] gateway (the chat instance)  ARGV[6] lifetime (s)
-- Returns 1, or 0 when the session exists already (ids are unique: it never should).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'tenant', ARGV[1], 'token', ARGV[2], 'contact', '', 'lang', ARGV[3],
  'email', '', 'person', '0', 'created_ms', ARGV[4], 'seen_ms', ARGV[4], 'gateway', ARGV[5])
redis.call('EXPIRE', KEYS[1], ARGV[6])
return 1
