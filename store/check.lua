-- check.lua: CounterStore::Check for one SMTP event in one atomic step.
-- The contract is include/floodgate/counter_store.h; policy/gcra.cc is the same arithmetic
-- in C++ (the memory store), and tests/integration/store_conformance_test.cc holds the
-- two equal. Redis' own clock decides, so hosts with skewed clocks agree.
--
-- KEYS, per check: the limit's hash, then (only when has_lock = 1) the subject's lock key
--   and its network set key, then (only when has_lock = 1 and max_domains > 0) its
--   domain set key, then (only when hold_max > 0) the subject's held-ids list.
-- ARGV: n, then per check: cost strict advisory has_lock nwin lock_ttl_us max_networks
--   networks_window_us network hold_max factor_milli max_domains domains_window_us ndomains,
--   then per window: period_us emission_us tolerance_us lock_threshold amount floor_amount
--   rise_ppm, then the ndomains domain tokens.
-- Names and shapes are include/floodgate/store_layout.h's.
-- Stored: limit hash fields per window, named by the period alone (changing a limit's
--   numbers keeps its history): t<period> TAT, r<period> reported_until, n<period> units
--   refused since that report; adaptive windows also l<period> "<period end / period>:
--   <accepted>:<usual peak in millionths>" (policy/adaptive.cc has the arithmetic; the
--   roll, amount and tightening below repeat it operation for operation). Lock key: a
--   string holding the reason, with a TTL. Network and domain sets: sorted sets
--   member -> last seen.
-- Returns {allowed, per check: allowed locked newly_locked reason refused_units hold_full,
--   per window: refused first_refusal retry_after_us amount adapted}.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function num(s) return tonumber(s) or 0 end
local function str(x) return string.format('%d', x) end
local function ms(us) return str(math.max(1, math.ceil(us / 1000))) end
local now_s = str(now)
local LEARNED_KEEP = 30 * 86400000000  -- store_layout.h kLearnedKeepUs

-- Exact sliding set of distinct members seen within `window`, capped at cap (oldest go).
-- Returns how many it holds. Members older than the window are dropped only once it holds
-- cap (the limit + 1) or more: below that, even with the stale ones it holds no more than
-- the limit, and all the caller asks is whether the distinct count is above it. Two
-- redis.calls fewer on nearly every call.
local function see(key, members, cap, window)
  local args = {}
  for _, m in ipairs(members) do args[#args + 1], args[#args + 2] = now_s, m end
  redis.call('ZADD', key, unpack(args))
  local n = redis.call('ZCARD', key)
  if n >= cap then
    n = n - redis.call('ZREMRANGEBYSCORE', key, '-inf', str(now - window))
    if n > cap then
      redis.call('ZREMRANGEBYRANK', key, 0, n - cap - 1)
      n = cap
    end
  end
  redis.call('PEXPIRE', key, ms(window))
  return n
end

-- Adaptive: end the counted period when now is past it, folding its total into the
-- usual peak (policy::Roll).
local function roll(w, factor)
  local pend = w.lidx * w.period
  if now < pend then return end
  if pend > 0 then
    local c = w.acc * 1000000
    if c > w.usual then
      local base = math.max(w.usual, math.floor(w.floor * 1e9 / factor))
      local step = math.floor(base * w.rise / 1e6)
      w.usual = w.usual + math.min(c - w.usual, step)
    elseif c < w.usual then
      w.usual = w.usual - math.floor((w.usual - c + 7) / 8)
    end
  end
  w.acc = 0
  w.lidx = math.floor(now / w.period) + 1
end

-- 1. Decode, and read every state before anything is charged.
local checks, hashes, ends = {}, {}, {}
local a, k = 2, 1
for i = 1, num(ARGV[1]) do
  local c = {key = KEYS[k], cost = num(ARGV[a]), strict = ARGV[a + 1] == '1',
             advisory = ARGV[a + 2] == '1', lock_ttl = num(ARGV[a + 5]),
             max_nets = num(ARGV[a + 6]), nets_window = num(ARGV[a + 7]),
             network = ARGV[a + 8], hold_max = num(ARGV[a + 9]), factor = num(ARGV[a + 10]),
             max_doms = num(ARGV[a + 11]), doms_window = num(ARGV[a + 12]), allowed = true,
             locked = false, newly = false, reason = '', refused_units = 0, networks = 0,
             domains = 0, hold_full = false, windows = {}}
  local nwin, ndoms = num(ARGV[a + 4]), num(ARGV[a + 13])
  k = k + 1
  if ARGV[a + 3] == '1' then
    c.lock_key, c.nets_key = KEYS[k], KEYS[k + 1]
    k = k + 2
    if c.max_doms > 0 then
      c.doms_key = KEYS[k]
      k = k + 1
    end
  end
  if c.hold_max > 0 then
    c.hold_full = redis.call('LLEN', KEYS[k]) >= c.hold_max
    k = k + 1
  end
  a = a + 14
  if not hashes[c.key] then
    local h, flat = {}, redis.call('HGETALL', c.key)
    for f = 1, #flat, 2 do
      if string.byte(flat[f]) == 108 then h[flat[f]] = flat[f + 1]  -- 'l'
      else h[flat[f]] = num(flat[f + 1]) end
    end
    hashes[c.key], ends[c.key] = h, {}
  end
  local h = hashes[c.key]
  for j = 1, nwin do
    local p = ARGV[a]
    local w = {p = p, period = num(p), emission = num(ARGV[a + 1]),
               tolerance = num(ARGV[a + 2]), threshold = num(ARGV[a + 3]),
               amount = num(ARGV[a + 4]), floor = num(ARGV[a + 5]), rise = num(ARGV[a + 6]),
               tf = 't' .. p, rf = 'r' .. p, nf = 'n' .. p, lf = 'l' .. p,
               refused = false, first = false, retry = 0}
    w.tat, w.reported, w.refused_count = h[w.tf] or 0, h[w.rf] or 0, h[w.nf] or 0
    w.judged = w.amount
    w.adapt = c.factor > 0 and w.floor > 0 and w.amount > 0
    if w.adapt then
      local i, acc, usual = string.match(h[w.lf] or '', '^(%d+):(%d+):(%d+)$')
      w.lidx, w.acc, w.usual = num(i), num(acc), num(usual)
      roll(w, c.factor)
      -- The amount the subject's normal allows, and the window judged by it.
      w.judged = math.min(w.amount, math.max(w.floor, math.floor(w.usual * c.factor / 1e9)))
      if w.judged < w.amount then
        w.emission = math.max(1, math.floor(w.period / w.judged))
        w.threshold = math.floor(w.threshold / w.amount) * w.judged
        w.tolerance = math.max(w.tolerance, w.emission)
      end
    end
    c.windows[j] = w
    a = a + 7
  end
  local doms = {}
  for d = 1, ndoms do doms[d] = ARGV[a + d - 1] end
  a = a + ndoms
  if c.lock_key then
    local reason = redis.call('GET', c.lock_key)
    if reason then c.locked, c.allowed, c.reason = true, false, reason end
    if c.max_nets > 0 and c.network ~= '' then
      c.networks = see(c.nets_key, {c.network}, c.max_nets + 1, c.nets_window)
    end
    if c.doms_key and #doms > 0 then
      c.domains = see(c.doms_key, doms, c.max_doms + 1, c.doms_window)
    end
  end
  checks[i] = c
end

-- 2. Evaluate: locks first, then every window of every limit.
local allowed = true
for _, c in ipairs(checks) do
  if not c.locked and not c.advisory and c.max_nets > 0 and c.networks > c.max_nets then
    c.allowed, c.locked, c.newly, c.reason = false, true, true, 'too_many_networks'
  end
  if not c.locked and not c.advisory and c.max_doms > 0 and c.domains > c.max_doms then
    c.allowed, c.locked, c.newly, c.reason = false, true, true, 'too_many_domains'
  end
  for _, w in ipairs(c.windows) do
    w.new_tat = math.max(w.tat, now) + c.cost * w.emission
    if w.new_tat - now > w.tolerance then
      w.refused, w.retry, c.allowed = true, w.new_tat - now - w.tolerance, false
    end
  end
  if not c.allowed and (not c.advisory or c.locked) then allowed = false end
end

-- 3. Charge, count refusals, lock on bursts. A locked subject charges nothing; a strict
-- charge is capped at now + tolerance + period.
for _, c in ipairs(checks) do
  local h, fields = hashes[c.key], {}
  local accepted = not c.locked and allowed and c.allowed
  local charge = not c.locked and (c.strict or accepted)
  for _, w in ipairs(c.windows) do
    if charge then
      local tat = math.min(w.new_tat, now + w.tolerance + w.period)
      h[w.tf] = tat
      fields[#fields + 1], fields[#fields + 2] = w.tf, str(tat)
    end
    if w.adapt then
      -- Only accepted units teach a window its subject's normal.
      if accepted then w.acc = w.acc + c.cost end
      local learned = string.format('%d:%d:%d', w.lidx, w.acc, w.usual)
      h[w.lf], ends[c.key][w.lf] = learned, w.lidx * w.period
      fields[#fields + 1], fields[#fields + 2] = w.lf, learned
    end
    if w.refused and not c.locked then
      if w.reported <= now then
        w.first, w.reported, w.refused_count = true, now + w.period, 0
      end
      w.refused_count = w.refused_count + c.cost
      if not c.advisory and w.threshold > 0 and w.refused_count >= w.threshold then
        c.allowed, c.locked, c.newly, c.reason = false, true, true, 'burst'
        -- A new lock (after an unlock or lock_ttl) takes a new burst: restart the count.
        c.refused_units, w.refused_count = w.refused_count, 0
      end
      h[w.rf], h[w.nf] = w.reported, w.refused_count
      fields[#fields + 1], fields[#fields + 2] = w.rf, str(w.reported)
      fields[#fields + 1], fields[#fields + 2] = w.nf, str(w.refused_count)
    end
  end
  if #fields > 0 then redis.call('HSET', c.key, unpack(fields)) end
  if c.newly and c.lock_key and c.lock_ttl > 0 then
    redis.call('SET', c.lock_key, c.reason, 'PX', ms(c.lock_ttl))
  end
end

-- 4. Expiry: a hash lives until its last TAT or report time, then holds nothing; an
-- adaptive window's normal is kept LEARNED_KEEP after its period.
for key, h in pairs(hashes) do
  local at = 0
  for f, v in pairs(h) do
    local kind = string.byte(f)
    if kind == 108 then  -- 'l': kept LEARNED_KEEP after the end of its period
      local pend = ends[key][f] or num(string.match(v, '^(%d+)')) * num(string.sub(f, 2))
      at = math.max(at, pend + LEARNED_KEEP)
    elseif kind ~= 110 then  -- not 'n'
      at = math.max(at, v)
    end
  end
  if at <= now then redis.call('DEL', key) else redis.call('PEXPIRE', key, ms(at - now)) end
end

local out = {allowed and 1 or 0}
local function b(x) return x and 1 or 0 end
for _, c in ipairs(checks) do
  local n = #out
  out[n + 1], out[n + 2], out[n + 3] = b(c.allowed), b(c.locked), b(c.newly)
  out[n + 4], out[n + 5], out[n + 6] = c.reason, c.refused_units, b(c.hold_full)
  for _, w in ipairs(c.windows) do
    n = #out
    out[n + 1], out[n + 2], out[n + 3] = b(w.refused), b(w.first), w.retry
    out[n + 4], out[n + 5] = w.judged, b(w.judged < w.amount)
  end
end
return out
