-- card: contact cards for the dashboard (read only). The router's _prelude.lua is in front.
-- KEYS[1] hk:{t}:rev   ARGV[4] the viewing agent ('' for a supervisor, who sees the tenant)
-- ARGV[5] 'agent': every contact offered to or held by the viewer; 'ids': the ids ARGV[6..]
-- An agent sees only contacts offered to or held by it: others are left out exactly like
-- contacts that do not exist. Returns the cards as a JSON array.
local viewer, mode = ARGV[4], ARGV[5]

-- At most n bytes of s, not cutting a UTF-8 sequence.
local function excerpt(s, n)
  s = s or ''
  if #s <= n then
    return s
  end
  local cut = n
  while cut > 0 do
    local b = string.byte(s, cut + 1)
    if not b or b < 0x80 or b >= 0xC0 then
      break
    end
    cut = cut - 1
  end
  return string.sub(s, 1, cut) .. '…'
end

local function visible(cid, c)
  if viewer == '' then
    return true
  end
  return c.agent == viewer or c.offer_agent == viewer
    or redis.call('SISMEMBER', key('agent', viewer, 'contacts'), cid) == 1
end

local function split(s)
  local out = {}
  for part in string.gmatch(s or '', '[^,]+') do
    out[#out + 1] = part
  end
  return out
end

local function card(cid)
  local c = hgetall(contact_key(cid))
  if not c or not visible(cid, c) then
    return nil
  end
  local cust = { id = c.customer or '', name = c.display_name or '',
    phone = (c.phone_number ~= nil and c.phone_number ~= '') and c.phone_number or (c.entered_phone or ''),
    email = (c.email_address ~= nil and c.email_address ~= '') and c.email_address or (c.entered_email or ''),
    vulnerable = false, vip = false }
  local history = {}
  if c.customer and c.customer ~= '' then
    local f = redis.call('HMGET', key('customer', c.customer), 'vulnerable', 'vip')
    cust.vulnerable, cust.vip = f[1] == '1', f[2] == '1'
    for _, other in ipairs(redis.call('ZREVRANGE', key('customer', c.customer, 'contacts'), 0, 10)) do
      if other ~= cid and #history < 10 then
        local h = redis.call('HMGET', contact_key(other), 'channel', 'enq_ms', 'class', 'state',
          'subject', 'text')
        local text = (h[5] and h[5] ~= '') and h[5] or (h[6] or '')
        history[#history + 1] = { id = other, channel = h[1] or '', at = num(h[2]),
          class = h[3] or '', state = h[4] or '', excerpt = excerpt(text, 120) }
      end
    end
  end
  local conversation = {}
  for _, m in ipairs(redis.call('LRANGE', key('conv', cid), -100, -1)) do
    local ok, msg = pcall(cjson.decode, m)
    if ok then
      conversation[#conversation + 1] = msg
    end
  end
  local call = nil
  for f, v in pairs(c) do
    if string.sub(f, 1, 5) == 'call_' then
      call = call or {}
      call[string.sub(f, 6)] = v
    end
  end
  return { id = cid, channel = c.channel or '', state = c.state or '', class = c.class or '',
    score = num(c.score), target = c.target or '', queue = c.queue or '',
    reasons = split(c.reasons), lang = c.lang or '', subject = c.subject or '',
    text = excerpt(c.text, 4096), received_at = num(c.enq_ms), offer_agent = c.offer_agent or '',
    offer_until = num(c.offer_until), agent = c.agent or '', customer = cust,
    history = history, conversation = conversation, call = call or cjson.null }
end

local ids = {}
if mode == 'agent' then
  ids = redis.call('SMEMBERS', key('agent', viewer, 'contacts'))
else
  for i = 6, #ARGV do
    ids[#ids + 1] = ARGV[i]
  end
end
local out = {}
for _, cid in ipairs(ids) do
  local one = card(cid)
  if one then
    out[#out + 1] = one
  end
end
if #out == 0 then
  return '[]'
end
return cjson.encode(out)
