-- The record format of package store/internal/record, for Redis scripts
-- (Lua 5.1). record.go is its Go side and doc.go describes the bytes; a
-- change here is a change there.
local MAX_MILLIS = 9007199254740991 -- 2^53-1, record.MaxMillis

-- millis reads a time of the header; nil beyond +-MAX_MILLIS, as in Go.
-- Adding 0 turns a "-0" into 0, so that encode writes it as Go would.
local function millis(s)
  local n = tonumber(s)
  if not n or n > MAX_MILLIS or n < -MAX_MILLIS then return nil end
  return n + 0
end

-- parse returns the record table of v, or nil when v is not a record of
-- version 3, 2 or 1.
local function parse(v)
  local ver, sp, k, a, pos = string.sub(v, 1, 1)
  if ver == '3' or ver == '2' then
    sp, k, a, pos = string.match(v, '^[23]([01])(%x%x)(%x%x),()')
    if not sp then return nil end
    k, a = tonumber(k, 16), tonumber(a, 16)
  else
    -- version 1: no version byte, a one-digit kind, no assurance level
    sp, k, pos = string.match(v, '^([01])(%d),()')
    if not sp then return nil end
    k, a = tonumber(k), 0
  end
  local e, i, c, au, seen
  if ver == '3' then
    e, i, c, au, seen, pos = string.match(v, '^(%-?%d+),(%-?%d+),(%-?%d+),(%-?%d+),(%-?%d+),()', pos)
  else
    -- versions 1 and 2: no lastSeen, read as 0 (never touched)
    e, i, c, au, pos = string.match(v, '^(%-?%d+),(%-?%d+),(%-?%d+),(%-?%d+),()', pos)
    seen = '0'
  end
  if not e then return nil end
  local ls, lp, ld, lf, s = string.match(v, '^(%d+),(%d+),(%d+),(%d+);()', pos)
  if not ls then return nil end
  e, i, c, au, seen = millis(e), millis(i), millis(c), millis(au), millis(seen)
  ls, lp, ld, lf = millis(ls), millis(lp), millis(ld), millis(lf)
  if not (e and i and c and au and seen and ls and lp and ld and lf) then return nil end
  if s + ls + lp + ld + lf ~= #v + 1 then return nil end
  local r = {spent = sp == '1', kind = k, assurance = a,
    expires = e, issued = i, chainEnd = c, authTime = au, lastSeen = seen}
  r.subject = string.sub(v, s, s + ls - 1)
  s = s + ls
  r.project = string.sub(v, s, s + lp - 1)
  s = s + lp
  r.device = string.sub(v, s, s + ld - 1)
  r.family = string.sub(v, s + ld)
  return r
end

-- encode returns the bytes of record table r, always in version 3.
local function encode(r)
  return string.format('3%s%02x%02x,%.0f,%.0f,%.0f,%.0f,%.0f,%d,%d,%d,%d;',
    r.spent and '1' or '0', r.kind, r.assurance,
    r.expires, r.issued, r.chainEnd, r.authTime, r.lastSeen,
    #r.subject, #r.project, #r.device, #r.family) ..
    r.subject .. r.project .. r.device .. r.family
end

-- successor returns the live record that rotating r stores: issued and
-- expires are its own, lastSeen is 0 (never touched), every other field
-- is r's (store.Rotator's contract lists them; Assurance among them).
local function successor(r, issued, expires)
  return {spent = false, kind = r.kind, assurance = r.assurance,
    expires = expires, issued = issued, chainEnd = r.chainEnd, authTime = r.authTime, lastSeen = 0,
    subject = r.subject, project = r.project, device = r.device, family = r.family}
end
