-- noop-check.lua: for the ceiling benchmark only (bench/README.md, "The ceiling"); never
-- in a floodgate that handles mail. It takes store/check.lua's KEYS and ARGV and answers
-- in its shape that everything is allowed, nothing locked, every window at its own
-- amount, and reads and writes nothing: the round trip without Redis' work.
local out, a = {1}, 2
for _ = 1, tonumber(ARGV[1]) do
  local nwin, ndoms = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 13])
  local n = #out
  out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5], out[n + 6] = 1, 0, 0, '', 0, 0
  a = a + 14
  for _ = 1, nwin do
    n = #out
    out[n + 1], out[n + 2], out[n + 3], out[n + 4], out[n + 5] = 0, 0, 0, tonumber(ARGV[a + 4]), 0
    a = a + 7
  end
  a = a + ndoms
end
return out
