-- chat_message: a chat conversation's traffic: messages (stored, idempotent by message id),
-- typing and read marks (relayed), "talk to a person" (routes a routine contact as personal)
-- and the email address a customer leaves to continue by email. Agent messages also go to
-- the session's outbox, from which the chat service delivers and removes them.
-- KEYS[1] hk:{t}:contact:<id>   ARGV[4] sender customer|agent   ARGV[5] contact id
-- ARGV[6] session id   ARGV[7] message id   ARGV[8] message|typing|read|person|email
-- ARGV[9] agent id   ARGV[10] text   ARGV[11] score a personal contact gets at least
-- ARGV[12] the human chat queue
local sender, cid, session, mid, kind, aid, text =
  ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local c = load_contact(cid)
if not c then
  return result(E_NOT_FOUND, 'unknown contact ' .. cid)
end
if sender == 'customer' and (c.chat_session or '') ~= session then
  return result(E_NOT_YOURS, 'not this session\'s conversation', '', c.state)
end
local name = ''
if sender == 'agent' then
  if (c.agent or '') ~= aid then
    return result(E_NOT_YOURS, 'the contact is not held by you', '', c.state)
  end
  if c.state ~= 'assigned' and c.state ~= 'resolution_proposed' then
    return result(E_STATE, 'the contact is ' .. c.state, '', c.state)
  end
  name = redis.call('HGET', agent_key(aid), 'display_name') or aid
  session = c.chat_session or ''
end
local msg = cjson.encode({ id = mid, contact = cid, session = session, from = sender,
  agent = c.agent or '', name = name, text = text, at = NOW, kind = kind })

if kind == 'message' then
  if sender == 'customer' and c.state == 'closed' then
    return result(E_STATE, 'the contact is closed', '', c.state)
  end
  if redis.call('SADD', key('conv', cid, 'ids'), mid) == 0 then
    return result(E_OK, '', '', c.state) -- stored before: a resend
  end
  redis.call('RPUSH', key('conv', cid), msg)
  if sender == 'agent' and session ~= '' then
    redis.call('RPUSH', key('outbox', session), msg)
  end
  event('chat.message', cid, c.agent, c.state, c.queue, 'from=' .. sender, msg)
elseif kind == 'typing' or kind == 'read' then
  event('chat.' .. kind, cid, c.agent, c.state, c.queue, 'from=' .. sender, msg)
elseif kind == 'person' then
  if sender ~= 'customer' then
    return result(E_INVALID, 'only the customer asks for a person')
  end
  if c.state == 'queued' and c.class == 'routine' then
    dequeue(cid, c)
    c.score = tostring(math.max(num(c.score), tonumber(ARGV[11])))
    redis.call('HSET', contact_key(cid), 'class', 'personal', 'score', c.score, 'target',
      'human_chat', 'reasons', (c.reasons or '') .. ',choice:talk_to_person')
    trail(cid, 'escalated reason=talk_to_person queue=' .. ARGV[12])
    enqueue(cid, c, ARGV[12], 'talk_to_person')
    match(ARGV[12], 5)
  end
  event('chat.person', cid, c.agent, redis.call('HGET', contact_key(cid), 'state'), c.queue, '', msg)
elseif kind == 'email' then
  redis.call('HSET', contact_key(cid), 'continue_email', text)
  trail(cid, 'continue_by_email')
  event('chat.email', cid, c.agent, c.state, c.queue, '', msg)
else
  return result(E_INVALID, 'unknown chat kind ' .. kind)
end
return result(E_OK, '', '', redis.call('HGET', contact_key(cid), 'state'))
