-- check.lua: CounterStore::Check for one SMTP event in one atomic step.
-- The contract is include/floodgate/counter_store.h; policy/gcra.cc is the same arithmetic
-- in C++ (the memory store), and tests/integration/store_conformance_test.cc holds the
-- two equal. Redis' own clock decides, so hosts with skewed clocks agree.
--
-- KEYS, per check: the limit's hash, then (only when has_lock = 1) the subject's lock key
--   and its network set key, then (only when hold_max > 0) the subject's held-ids list.
-- ARGV: n, then per check: cost strict advisory has_lock nwin lock_ttl_us max_networks
--   networks_window_us network hold_max, then per window: period_us emission_us
--   tolerance_us lock_threshold.
-- Names and shapes are include/floodgate/store_layout.h's.
-- Stored: limit hash fields per window, named by the period alone (changing a limit's
--   numbers keeps its history): t<period> TAT, r<period> reported_until, n<period> units
--   refused since that report. Lock key: a string holding the reason, with a TTL.
--   Network set: a sorted set network -> last seen.
-- Returns {allowed, per check: allowed locked newly_locked reason refused_units hold_full,
--   per window: refused first_refusal retry_after_us}.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function num(s) return tonumber(s) or 0 end
local function str(x) return string.format('%.0f', x) end
local function ms(us) return str(math.max(1, math.ceil(us / 1000))) end

-- 1. Decode, and read every state before anything is charged.
local checks, hashes = {}, {}
local a, k = 2, 1
for i = 1, num(ARGV[1]) do
  local c = {key = KEYS[k], cost = num(ARGV[a]), strict = ARGV[a + 1] == '1',
             advisory = ARGV[a + 2] == '1', lock_ttl = num(ARGV[a + 5]),
             max_nets = num(ARGV[a + 6]), nets_window = num(ARGV[a + 7]),
             network = ARGV[a + 8], hold_max = num(ARGV[a + 9]), allowed = true,
             locked = false, newly = false, reason = '', refused_units = 0, networks = 0,
             hold_full = false, windows = {}}
  local nwin = num(ARGV[a + 4])
  k = k + 1
  if ARGV[a + 3] == '1' then
    c.lock_key, c.nets_key = KEYS[k], KEYS[k + 1]
    k = k + 2
  end
  if c.hold_max > 0 then
    c.hold_full = redis.call('LLEN', KEYS[k]) >= c.hold_max
    k = k + 1
  end
  a = a + 10
  if not hashes[c.key] then
    local h, flat = {}, redis.call('HGETALL', c.key)
    for f = 1, #flat, 2 do h[flat[f]] = num(flat[f + 1]) end
    hashes[c.key] = h
  end
  local h = hashes[c.key]
  for j = 1, nwin do
    local p = ARGV[a]
    c.windows[j] = {p = p, period = num(p), emission = num(ARGV[a + 1]),
                    tolerance = num(ARGV[a + 2]), threshold = num(ARGV[a + 3]),
                    tat = h['t' .. p] or 0, reported = h['r' .. p] or 0,
                    refused_count = h['n' .. p] or 0, refused = false, first = false, retry = 0}
    a = a + 4
  end
  if c.lock_key then
    local reason = redis.call('GET', c.lock_key)
    if reason then c.locked, c.allowed, c.reason = true, false, reason end
    -- Exact sliding set of distinct networks, capped at max_networks + 1 (oldest go).
    if c.max_nets > 0 and c.network ~= '' then
      redis.call('ZREMRANGEBYSCORE', c.nets_key, '-inf', str(now - c.nets_window))
      redis.call('ZADD', c.nets_key, str(now), c.network)
      local extra = redis.call('ZCARD', c.nets_key) - (c.max_nets + 1)
      if extra > 0 then redis.call('ZREMRANGEBYRANK', c.nets_key, 0, extra - 1) end
      c.networks = redis.call('ZCARD', c.nets_key)
      redis.call('PEXPIRE', c.nets_key, ms(c.nets_window))
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
  local charge = not c.locked and (c.strict or (allowed and c.allowed))
  for _, w in ipairs(c.windows) do
    if charge then
      h['t' .. w.p] = math.min(w.new_tat, now + w.tolerance + w.period)
      fields[#fields + 1], fields[#fields + 2] = 't' .. w.p, str(h['t' .. w.p])
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
      h['r' .. w.p], h['n' .. w.p] = w.reported, w.refused_count
      fields[#fields + 1], fields[#fields + 2] = 'r' .. w.p, str(w.reported)
      fields[#fields + 1], fields[#fields + 2] = 'n' .. w.p, str(w.refused_count)
    end
  end
  if #fields > 0 then redis.call('HSET', c.key, unpack(fields)) end
  if c.newly and c.lock_key and c.lock_ttl > 0 then
    redis.call('SET', c.lock_key, c.reason, 'PX', ms(c.lock_ttl))
  end
end

-- 4. Expiry: a hash lives until its last TAT or report time, then holds nothing.
for key, h in pairs(hashes) do
  local at = 0
  for f, v in pairs(h) do
    if string.sub(f, 1, 1) ~= 'n' then at = math.max(at, v) end
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
  end
end
return out
