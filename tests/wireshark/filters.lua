-- Evaluates many display filters in one tshark run (tests/wireshark.rs).
-- One tap per filter: tshark calls a tap's `packet` for each frame its
-- filter accepts, as `-Y` would show it. Reads the filters, one a line, from
-- $LOLA_FILTERS; writes to $LOLA_OUT a line per filter, in order:
--   E <TAB> message      tshark refuses the filter
--   M <TAB> 1,5,9        the frames it matches (maybe none)
local path = os.getenv("LOLA_FILTERS")
local out = assert(io.open(os.getenv("LOLA_OUT"), "w"))
local lines = {}
for line in io.lines(path) do
  lines[#lines + 1] = line
end
local result = {}
for i, filter in ipairs(lines) do
  local ok, tap = pcall(Listener.new, nil, filter)
  if ok then
    local hits = {}
    result[i] = hits
    function tap.packet(pinfo)
      hits[#hits + 1] = pinfo.number
    end
  else
    result[i] = (tostring(tap):gsub("[\r\n\t]", " "))
  end
end
local last = Listener.new()
function last.draw()
  for i = 1, #lines do
    local r = result[i]
    if type(r) == "string" then
      out:write("E\t", r, "\n")
    else
      out:write("M\t", table.concat(r, ","), "\n")
    end
  end
  out:close()
end
