-- session_resume: continues a chat session on any instance, in one atomic step: checks the
-- resume token, refreshes the session and returns what the customer must see again.
-- KEYS[1] hk:{t}:chat:<session>; the other keys share its hash tag (hk:{t}:).
-- ARGV[1] SHA-256 of the resume token (hex)  ARGV[2] now (ms)  ARGV[3] gateway
-- ARGV[4] lang ('' keeps the stored one)  ARGV[5] lifetime (s)  ARGV[6] most history entries
-- Returns {0} when the session is unknown or the token does not match, else
-- {1, contact, contact state, agent display name, lang, person, email, {conversation JSON},
--  {outbox JSON}}; the agent name only while an agent holds the contact.
local prefix, session = string.match(KEYS[1], '^(hk:{[^}]*}:)chat:(.+)$')
if not prefix then
  return {0}
end
local h = redis.call('HMGET', KEYS[1], 'token', 'contact', 'lang', 'person', 'email')
if not h[1] or h[1] ~= ARGV[1] then
  return {0}
end
redis.call('HSET', KEYS[1], 'seen_ms', ARGV[2], 'gateway', ARGV[3])
local lang = h[3] or ''
if ARGV[4] ~= '' then
  lang = ARGV[4]
  redis.call('HSET', KEYS[1], 'lang', lang)
end
redis.call('EXPIRE', KEYS[1], ARGV[5])
local contact = h[2] or ''
local state, name, conv = '', '', {}
if contact ~= '' then
  local c = redis.call('HMGET', prefix .. 'contact:' .. contact, 'state', 'agent')
  state = c[1] or ''
  local agent = c[2] or ''
  if agent ~= '' and (state == 'assigned' or state == 'resolution_proposed') then
    name = redis.call('HGET', prefix .. 'agent:' .. agent, 'display_name') or agent
  end
  conv = redis.call('LRANGE', prefix .. 'conv:' .. contact, -tonumber(ARGV[6]), -1)
end
local outbox = redis.call('LRANGE', prefix .. 'outbox:' .. session, 0, -1)
return {1, contact, state, name, lang, h[4] or '0', h[5] or '', conv, outbox}
