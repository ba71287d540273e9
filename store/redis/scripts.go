package redis

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/store/internal/record"
)

// The scripts below are each one round trip and run atomically on the
// server. Every key a token operation touches carries the subject's
// routing tag in braces, so on a Cluster they all live in one slot; keys
// a script reaches beyond its KEYS (a subject's index, the tokens listed
// in it) are built from the same "<prefix>:{<tag>}:" base, passed as
// ARGV, and so share that slot.
//
// A subject's index is a sorted set at base.."s:"..sha1hex(subject)
// whose members are the hex hashes of its token keys (base.."t:"..hex),
// scored by expiry in ms. Members whose records now belong to another
// subject, or are gone, are skipped and removed when met. SHA-1 only
// spreads subjects over index keys: a collision would put two subjects in
// one set, and every reader checks the subject of each record it reads.

// prelude is what every token script starts with: the record format's
// Lua side (parse, encode, successor; package store/internal/record) and
// the index helpers below.
var prelude = record.Lua + `
-- kept_until is when a record is forgotten: its expiry, or for a spent
-- record its chain's end when that is later (store.Rotator's contract), so
-- that a replay after the spent token's own expiry is still recognised.
local function kept_until(r)
  if r.spent and r.chainEnd > r.expires then return r.chainEnd end
  return r.expires
end
local function index_of(base, subject)
  return base .. 's:' .. redis.sha1hex(subject)
end
local function index_add(idx, member, expires, now)
  redis.call('ZADD', idx, expires, member)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
  local top = redis.call('ZRANGE', idx, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIRE', idx, string.format('%.0f', tonumber(top[2]) - now)) end
end
-- each_live calls fn(key, member, record) for every live, unspent record
-- of subject in its index, dropping dead members on the way.
local function each_live(idx, base, subject, now, fn)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', now)
  for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    local key = base .. 't:' .. m
    local v = redis.call('GET', key)
    local r = v and parse(v)
    if not r or r.subject ~= subject then
      redis.call('ZREM', idx, m)
    elseif not r.spent and r.expires > now then
      fn(key, m, r, v)
    end
  end
end
-- revoke deletes every live, unspent record of subject that match(r)
-- accepts and returns how many it deleted.
local function revoke(idx, base, subject, now, match)
  local n = 0
  each_live(idx, base, subject, now, function(key, m, r)
    if match(r) then
      redis.call('DEL', key)
      redis.call('ZREM', idx, m)
      n = n + 1
    end
  end)
  return n
end
`

// putScript: KEYS token, index; ARGV value, expires, now, member.
var putScript = goredis.NewScript(prelude + `
local exp, now = tonumber(ARGV[2]), tonumber(ARGV[3])
if exp <= now then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', string.format('%.0f', exp - now))
index_add(KEYS[2], ARGV[4], exp, now)
return 1
`)

// consumeScript: KEYS token; ARGV now, base, member. Returns the record
// it deleted, or nil.
var consumeScript = goredis.NewScript(prelude + `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local r = parse(v)
if not r or r.spent or r.expires <= tonumber(ARGV[1]) then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', index_of(ARGV[2], r.subject), ARGV[3])
return v
`)

// touchScript: KEYS token; ARGV now, minInterval. Sets the live record's
// lastSeen to now unless it was seen (lastSeen, else issued) less than
// minInterval before; the key keeps its expiry. Returns 1 when it wrote.
var touchScript = goredis.NewScript(prelude + `
local now = tonumber(ARGV[1])
local v = redis.call('GET', KEYS[1])
local r = v and parse(v)
if not r or r.spent or r.expires <= now then return 0 end
local seen = r.lastSeen
if seen == 0 then seen = r.issued end
if seen ~= 0 and now < seen + tonumber(ARGV[2]) then return 0 end
r.lastSeen = now
redis.call('SET', KEYS[1], encode(r), 'PX', string.format('%.0f', r.expires - now))
return 1
`)

// deleteScript: KEYS token; ARGV now, base, member. Returns 1 when the
// record it deleted had not expired.
var deleteScript = goredis.NewScript(prelude + `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('DEL', KEYS[1])
local r = parse(v)
if not r then return 0 end
redis.call('ZREM', index_of(ARGV[2], r.subject), ARGV[3])
if kept_until(r) > tonumber(ARGV[1]) then return 1 end
return 0
`)

// rotateScript: KEYS old, next, old's successor note; ARGV now, lifetime,
// base, next member. Returns {1, successor} when rotated, {2, spent record,
// revoked} on reuse, {0} when old is missing.
//
// The note (base.."n:"..old member) names the successor a rotation made, so
// that the very same call arriving again, as go-redis resends a command
// whose reply was lost, gets that successor back instead of being taken
// for a replay, which would revoke the chain of a user who did nothing
// wrong. A replay by anyone else carries another next member. The note
// lives as long as old would have (a resent command comes within moments);
// the spent record itself until kept_until, its chain's end. Its index
// member goes at old's own expiry: nothing reaches a spent record through
// the index.
var rotateScript = goredis.NewScript(prelude + `
local now = tonumber(ARGV[1])
local v = redis.call('GET', KEYS[1])
local r = v and parse(v)
if not r or kept_until(r) <= now then return {0} end
local idx = index_of(ARGV[3], r.subject)
if r.spent then
  if redis.call('GET', KEYS[3]) == ARGV[4] then
    local sv = redis.call('GET', KEYS[2])
    local sr = sv and parse(sv)
    if sr and not sr.spent and sr.expires > now then return {1, sv} end
  end
  local n = 0
  if r.family ~= '' then
    n = revoke(idx, ARGV[3], r.subject, now, function(x) return x.family == r.family end)
  end
  return {2, v, n}
end
local exp = now + tonumber(ARGV[2])
if r.chainEnd ~= 0 and r.chainEnd < exp then exp = r.chainEnd end
local succ = encode(successor(r, now, exp))
r.spent = true
redis.call('SET', KEYS[1], encode(r), 'PX', string.format('%.0f', kept_until(r) - now))
redis.call('SET', KEYS[3], ARGV[4], 'PX', string.format('%.0f', r.expires - now))
if exp > now then
  redis.call('SET', KEYS[2], succ, 'PX', string.format('%.0f', exp - now))
  index_add(idx, ARGV[4], exp, now)
end
return {1, succ}
`)

// deleteAllScript: KEYS index; ARGV now, base, subject, kind, project,
// device, family ("" and "0" match anything). Returns the count deleted.
var deleteAllScript = goredis.NewScript(prelude + `
local kind = tonumber(ARGV[4])
return revoke(KEYS[1], ARGV[2], ARGV[3], tonumber(ARGV[1]), function(r)
  return (kind == 0 or kind == r.kind) and (ARGV[5] == '' or ARGV[5] == r.project) and
    (ARGV[6] == '' or ARGV[6] == r.device) and (ARGV[7] == '' or ARGV[7] == r.family)
end)
`)

// listScript: KEYS index; ARGV now, base, subject. Returns member, record
// pairs of every live record; the caller filters them.
var listScript = goredis.NewScript(prelude + `
local out = {}
each_live(KEYS[1], ARGV[2], ARGV[3], tonumber(ARGV[1]), function(key, m, r, v)
  out[#out + 1] = m
  out[#out + 1] = v
end)
return out
`)

// hitScript: KEYS counter; ARGV now, window. Returns {n, resetAt}.
var hitScript = goredis.NewScript(`
local now = tonumber(ARGV[1])
local c = redis.call('HMGET', KEYS[1], 'n', 'r')
local n, r = tonumber(c[1]), tonumber(c[2])
if not n or not r or r <= now then
  r = now + tonumber(ARGV[2])
  n = 1
  redis.call('HSET', KEYS[1], 'n', 1, 'r', string.format('%.0f', r))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
else
  n = redis.call('HINCRBY', KEYS[1], 'n', 1)
end
return {n, string.format('%.0f', r)}
`)

// takeScript: KEYS limit; ARGV now, interval, burst, n (ms and units).
// Returns {allowed 0|1, retryAfter ms, remaining}. It is store.GCRA line
// for line; the key holds the theoretical arrival time and expires when it
// passes, so an idle limit costs nothing.
var takeScript = goredis.NewScript(`
local now, interval = tonumber(ARGV[1]), tonumber(ARGV[2])
local burst, n = tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1])) or 0
if tat < now then tat = now end
local new_tat = tat + n * interval
local horizon = now + burst * interval
if new_tat > horizon then
  return {0, new_tat - horizon, math.floor((horizon - tat) / interval)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', string.format('%.0f', new_tat - now))
return {1, 0, math.floor((horizon - new_tat) / interval)}
`)
