package redis

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/internal/record"
)

var _ store.Attempts = (*Store)(nil)

// CountAttempt implements [store.Attempts]: one script on the group's
// hash, so one round trip and one slot.
func (s *Store) CountAttempt(ctx context.Context, a store.Attempt) (store.AttemptResult, error) {
	if err := store.CheckAttempt(a); err != nil {
		return store.AttemptResult{}, err
	}
	known := 0
	if a.KnownDevice {
		known = 1
	}
	// Ends are computed from now rounded up to the millisecond, so that no
	// window or lock is shorter than asked; expiry is read against now
	// rounded down, so that none ends early either.
	now := s.now()
	res, err := attemptScript.Run(ctx, s.c, []string{s.attemptKey(a.Group)},
		now.UnixMilli(), ceilMillis(a.Window), ceilMillis(a.LockFor), a.PerClient, a.Total, known,
		attemptField(a.NameClient), attemptField(a.Name), attemptField(a.AccountClient), attemptField(a.Account),
		ceilMillis(time.Duration(now.UnixNano()))).Int64Slice()
	if err != nil {
		return store.AttemptResult{}, unavailable("count attempt", err)
	}
	if len(res) != 5 {
		return store.AttemptResult{}, unavailable("count attempt", record.ErrCorrupt)
	}
	r := store.AttemptResult{Locked: res[0] == 1, Held: res[2] == 1, NameCounted: res[3] == 1, AccountCounted: res[4] == 1}
	if r.Locked {
		r.Until = time.UnixMilli(res[1])
	}
	return r, nil
}

// ForgiveAttempt implements [store.Attempts] with one script.
func (s *Store) ForgiveAttempt(ctx context.Context, a store.Attempt) error {
	if err := store.CheckAttempt(a); err != nil {
		return err
	}
	err := forgiveScript.Run(ctx, s.c, []string{s.attemptKey(a.Group)}, s.nowMillis(),
		attemptField(a.NameClient), attemptField(a.Name), attemptField(a.AccountClient), attemptField(a.Account)).Err()
	if err != nil && err != goredis.Nil {
		return unavailable("forgive attempt", err)
	}
	return nil
}

// UncountAttempt implements [store.Attempts] with one script.
func (s *Store) UncountAttempt(ctx context.Context, a store.Attempt, r store.AttemptResult) error {
	if err := store.CheckAttempt(a); err != nil {
		return err
	}
	f := [4]string{}
	if r.NameCounted {
		f[0], f[1] = attemptField(a.NameClient), attemptField(a.Name)
	}
	if r.AccountCounted {
		f[2], f[3] = attemptField(a.AccountClient), attemptField(a.Account)
	}
	if err := uncountScript.Run(ctx, s.c, []string{s.attemptKey(a.Group)}, s.nowMillis(), f[0], f[1], f[2], f[3]).Err(); err != nil && err != goredis.Nil {
		return unavailable("uncount attempt", err)
	}
	return nil
}

// ClearAttempts implements [store.Attempts]: the group is one key.
func (s *Store) ClearAttempts(ctx context.Context, group string) error {
	if err := s.c.Del(ctx, s.attemptKey(group)).Err(); err != nil {
		return unavailable("clear attempts", err)
	}
	return nil
}

// attemptKey is the hash holding a group's attempt counters:
// "<prefix>:a:{<base64url sha256>}". The hash is the hash tag, so the
// group is one slot on Cluster and no caller data reaches a key name.
func (s *Store) attemptKey(group string) string {
	h := sha256.Sum256([]byte(group))
	return s.prefix + ":a:{" + base64.RawURLEncoding.EncodeToString(h[:]) + "}"
}

// attemptField names a counter inside its group's hash: 128 bits of its
// key's SHA-256, enough that no two keys of one group meet. "" stays ""
// (no counter).
func attemptField(key string) string {
	if key == "" {
		return ""
	}
	h := sha256.Sum256([]byte(key))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

// ceilMillis is d in whole milliseconds, rounded up, so that a window or
// lock is never shorter than asked.
func ceilMillis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// attemptCounts is the start of every attempt script: now is ARGV[1]
// (ms), and a field of the group's hash (KEYS[1]) holds "n:resetAt".
// live reads a field's value, read a field: the count and its end while
// the count lives, else nil. put writes a count.
const attemptCounts = `
local now = tonumber(ARGV[1])
local function live(v)
  local a, b = string.match(v, '^(%d+):(%d+)$')
  a, b = tonumber(a), tonumber(b)
  if a and b and b > now then return a, b end
  return nil
end
local function read(f)
  local v = redis.call('HGET', KEYS[1], f)
  if not v then return nil end
  return live(v)
end
local function put(f, n, r)
  redis.call('HSET', KEYS[1], f, string.format('%d:%.0f', n, r))
end
`

// attemptScript: KEYS the group's hash; ARGV now (ms, rounded down),
// window, lockFor (ms), perClient, total, knownDevice (0|1), the fields of
// nameClient, name, accountClient, account ("" for none), and now rounded
// up. Each field holds "n:resetAt". Returns {locked, until ms, held,
// nameCounted, accountCounted}. It is countAttempt of the memory store
// line for line. The hash lives as long as its longest counter; an
// expired field reads as zero and is deleted when read, and a hash past
// 64 fields (many clients on one account) is swept of its expired ones.
var attemptScript = goredis.NewScript(attemptCounts + `
local window, lockfor = tonumber(ARGV[2]), tonumber(ARGV[3])
local k, m, known = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1'
local f = {ARGV[7], ARGV[8], ARGV[9], ARGV[10]}
local up = tonumber(ARGV[11])
if redis.call('HLEN', KEYS[1]) > 64 then
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if not live(all[i + 1]) then redis.call('HDEL', KEYS[1], all[i]) end
  end
end
local n, r = {0, 0, 0, 0}, {0, 0, 0, 0}
for i = 1, 4 do
  if f[i] ~= '' then
    local v = redis.call('HGET', KEYS[1], f[i])
    if v then
      local a, b = live(v)
      if a then n[i], r[i] = a, b else redis.call('HDEL', KEYS[1], f[i]) end
    end
  end
end
local locked = 0
if n[1] >= k then locked = r[1] end
if not known and n[2] >= m and r[2] > locked then locked = r[2] end
if locked > 0 then return {1, locked, 0, 0, 0} end
local held = f[4] ~= '' and (n[3] >= k or (not known and n[4] >= m))
local last = 0
local function hit(i, limit)
  if n[i] == 0 then r[i] = up + window end
  n[i] = n[i] + 1
  if n[i] == limit and up + lockfor > r[i] then r[i] = up + lockfor end
  put(f[i], n[i], r[i])
  if r[i] > last then last = r[i] end
end
hit(1, k)
hit(2, m)
local counted = 0
if f[4] ~= '' and not held then
  hit(3, k)
  hit(4, m)
  counted = 1
end
if redis.call('PTTL', KEYS[1]) < last - now then
  redis.call('PEXPIRE', KEYS[1], string.format('%.0f', last - now))
end
return {0, 0, held and 1 or 0, 1, counted}
`)

// uncountScript: KEYS the group's hash; ARGV now, then up to four fields
// ("" for none), each taken down by one if live and above zero.
var uncountScript = goredis.NewScript(attemptCounts + `
for i = 2, 5 do
  if ARGV[i] ~= '' then
    local n, r = read(ARGV[i])
    if n and n > 0 then put(ARGV[i], n - 1, r) end
  end
end
return 0
`)

// forgiveScript: KEYS the group's hash; ARGV now, then the fields of
// nameClient, name, accountClient, account ("" for none). Each client
// count is taken off its all-clients count (never below zero) and
// deleted. It deletes the hash once empty.
var forgiveScript = goredis.NewScript(attemptCounts + `
for i = 2, 4, 2 do
  local client, all = ARGV[i], ARGV[i + 1]
  if client ~= '' then
    local c = read(client)
    redis.call('HDEL', KEYS[1], client)
    if c then
      local n, r = read(all)
      if n then put(all, math.max(0, n - c), r) end
    end
  end
end
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1]) end
return 0
`)
