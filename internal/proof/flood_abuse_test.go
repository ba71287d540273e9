package proof

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// The flood of TestAttack1AnonymousFlood: floodAddresses client addresses
// (127.0.1.1 to 127.0.4.250), floodWorkers requests in flight, and the
// three kinds of request a stranger can send without an account.
const (
	floodAddresses = 1000
	floodWorkers   = 16
	floodRounds    = 10 // the checks run once a round, and once after
)

type floodKind int

const (
	floodReset  floodKind = iota // POST /api/PasswordReset for an unknown address
	floodLogin                   // POST /api/Login with an unknown address
	floodVerify                  // POST /api/Validation with a well-formed pair of nothing
	floodKinds
)

// floodClass is the rate-limit class each kind is taken from.
var floodClass = [floodKinds]limit.Class{floodReset: limit.Reset, floodLogin: limit.Login, floodVerify: limit.Verify}

// floodEntries is what one request of each kind, once past its rate limit,
// makes the store keep: a reset for an unknown address nothing, a bogus
// verification nothing (a miss), a login with an unknown name two lockout
// counters of that name (the name's, and the name's from this client).
var floodEntries = [floodKinds]int{floodReset: 0, floodLogin: 2, floodVerify: 0}

// floodDefault is the number of requests make test sends per store; the
// environment's GATEHOUSE_FLOOD sets another (make soak: 1,000,000).
const floodDefault = 6000

func floodSize(t *testing.T) int {
	s := os.Getenv("GATEHOUSE_FLOOD")
	if s == "" {
		return floodDefault
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < floodAddresses*int(floodKinds) {
		t.Fatalf("GATEHOUSE_FLOOD=%q: want a number of requests, at least %d", s, floodAddresses*int(floodKinds))
	}
	return n
}

// floodAddr is the address of request i's client, and floodKindOf its kind:
// the addresses take turns, and each sends every kind.
func floodAddr(i int) int            { return i % floodAddresses }
func floodKindOf(i int) floodKind    { return floodKind(i / floodAddresses % int(floodKinds)) }
func floodIP(a int) string           { return fmt.Sprintf("127.0.%d.%d", 1+a/250, 1+a%250) }
func checkIP(role, round int) string { return fmt.Sprintf("127.0.%d.%d", 200+role, 1+round) }

// floodLockout is the app's lockout: as examples/contacts's (5 failures in
// 15 minutes lock the account for 15 minutes), with a per-client limit
// under the account's, so that locking the account takes 3 clients.
var floodLockout = auth.Lockout{MaxFailures: 5, MaxFailuresPerClient: 2, Window: 15 * time.Minute, Duration: 15 * time.Minute}

// floodBound is the most entries the flood can make a store keep, from
// the limits alone: for each address and kind, the requests its rate limit
// lets through in one lockout window (all it sent, or the burst plus one
// per interval for the window, whichever is fewer; a lockout counter lives
// one window), times what each keeps, plus the rate limit's own entry.
// Nothing in it depends on how fast the flood runs.
func floodBound(n int) int {
	pol := limit.DefaultPolicies()
	var sent [floodAddresses][floodKinds]int
	for i := range n {
		sent[floodAddr(i)][floodKindOf(i)]++
	}
	total := 0
	for a := range sent {
		for k, m := range sent[a] {
			if m == 0 {
				continue
			}
			r := pol[floodClass[k]].PerClient
			allowed := min(m, r.Burst+int(floodLockout.Window/r.Interval))
			total += 1 + allowed*floodEntries[k]
		}
	}
	return total
}

// floodChecks is the most entries the checks of one round may add: the
// owner's login (its client's rate limit, a session, two lockout counters
// cleared or taken back on success), the reset probes (their client's
// rate limit, a reset token and the mail counter of the known address),
// and the lock check (its client's rate limit; a locked login counts
// nothing). 10 leaves room to spare.
const floodChecks = 10

// redisEntryBytes is what one entry (a counter, a rate limit, an attempt
// group's hash) costs in Redis's used_memory at most: the key with its
// prefix and hash tag, its value, its TTL, and the dictionaries' share.
// Measured on Redis 7 over the full flood's 250,000-odd keys: 194 to 212 B
// a key standalone, 217 to 218 B on Cluster (which also maps keys to
// slots); over make test's 7,000 keys the connections' buffers make it 220
// to 300 B. The test logs the figure.
const redisEntryBytes = 320

// redisSlack is what used_memory may grow by besides the entries: the
// buffers of the app's connections to each server.
const redisSlack = 4 << 20

// floodTokenRoom is the room the memory store's token budget has left at
// the start of the flood: the test's own tokens (a session per login of
// the owner, a reset token per mail to her) take at most 20 of it.
const floodTokenRoom = 100

// fillSessions stores n sessions of other users in mem, as an app at its
// peak holds.
func fillSessions(t *testing.T, mem *memory.Store, n int) {
	t.Helper()
	exp := time.Now().Add(time.Hour)
	for i := range n {
		id := store.ID{Tag: "u" + strconv.Itoa(i%4096)}
		rand.Read(id.Hash[:])
		if err := mem.Put(t.Context(), id, store.Record{Kind: store.KindSession, Subject: "user-" + strconv.Itoa(i), ExpiresAt: exp}); err != nil {
			t.Fatalf("session %d of %d: %v", i+1, n, err)
		}
	}
}

// TestAttack1AnonymousFlood is attack 1 of issue 14 (capacity exhaustion)
// and its oracle, attack 2, end to end over HTTP on memory, Redis and
// Redis Cluster: GATEHOUSE_FLOOD requests (6,000 here; make soak sends
// 1,000,000) that need no account, from 1000 client addresses, a third
// each of password resets for unknown addresses, logins with unknown names
// and verifications of pairs of nothing, against an app wired like
// examples/contacts with the library's default rate limits. Before the
// flood an account (alan) is locked by wrong passwords from 3 clients.
// In each of 10 rounds while the flood runs, and after it:
//
//	(a) the owner of another account (grace) logs in, from an address of
//	    her own, with her password: 200;
//	(b) a reset for grace's address and one for an unknown address,
//	    from a fresh address, answer byte for byte alike;
//	(c) alan, with his right password from a fresh address, is still
//	    locked: 403 locked, the very answer of before the flood;
//	(d) the store holds no more entries than the bound over what it held
//	    before the flood (memory: Len; Redis: keys), and Redis's
//	    used_memory grows by no more than the bound at redisEntryBytes an
//	    entry, plus redisSlack.
//
// The bound comes from the limits alone (floodBound): for each address
// and kind, one rate-limit entry, plus what each request keeps times the
// requests its per-client limit lets through in one lockout window (15
// minutes: a lockout counter lives no longer), plus floodChecks for each
// round of checks. For the full flood each address sends 333 or 334 of
// each kind: a reset keeps nothing, a verification nothing, a login with
// an unknown name 2 counters, and limit.Login lets through 100 + 15 min /
// 6 s = 250 a window, so 1000 × (1 + 1 + (1 + 2 × 250)) + 11 × 10 =
// 503,110 entries, and in Redis at most 503,110 × 320 B + 4 MiB = 165 MB.
// make test's 6,000 requests, 2 of each kind an address, stay under every
// limit: 1000 × (1 + 1 + (1 + 2 × 2)) + 110 = 7,110 entries.
//
// Every answer of the flood is counted, and each must be one a stranger
// expects: 200 (a reset), 401 or 429, never a 5xx.
//
// The memory store starts with its token budget full of other users'
// sessions but for floodTokenRoom places, as an app's at its peak: when
// tokens and counters shared one cap, the flood's counters took the last
// places, and the owner's login answered 503 store_full. Its budgets
// stand in for the defaults: the default, 1,000,000, is about twice the
// bound of the full flood, and the store of a smaller flood gets the same
// ratio to its own bound (14,132 for 6,000 requests), on the same code
// path; no entry may be evicted. The test also checks that the full
// flood's bound fits the default.
func TestAttack1AnonymousFlood(t *testing.T) {
	n := floodSize(t)
	full := floodBound(1_000_000) + (floodRounds+1)*floodChecks
	if full > 1_000_000 {
		t.Fatalf("the bound of a 1,000,000-request flood, %d entries, is over the default MaxCounters", full)
	}
	bound := floodBound(n) + (floodRounds+1)*floodChecks
	t.Logf("%d requests from %d addresses: bound %d entries (a full flood's: %d)", n, floodAddresses, bound, full)
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			var st store.Store
			var mem *memory.Store
			var servers []string
			switch sf.Name {
			case "Memory":
				capacity := 1_000_000 // the defaults
				if n < 1_000_000 {
					capacity = int(int64(bound) * 1_000_000 / int64(full))
				}
				mem = memory.New(memory.Options{MaxRecords: capacity, MaxCounters: capacity})
				t.Cleanup(func() { mem.Close() })
				fillSessions(t, mem, capacity-floodTokenRoom)
				st = mem
			case "Redis":
				servers = []string{redistest.SharedStandalone(t).Addr}
				st = sf.Open(t, time.Now)
			case "RedisCluster":
				servers = redistest.SharedCluster(t).Addrs
				st = sf.Open(t, time.Now)
			default:
				t.Fatalf("no store %q in this test", sf.Name)
			}
			floodStore(t, st, n, bound, mem, servers)
		})
	}
}

func floodStore(t *testing.T, st store.Store, n, bound int, mem *memory.Store, servers []string) {
	srv := floodApp(t, st)
	url := srv.URL + "/api/"

	// Lock alan: 2 wrong passwords from each of 2 clients, a fifth from a
	// third, then the right one from a fourth.
	for i := range 5 {
		c := clientFrom(checkIP(0, i/2))
		if status, body := floodPost(t, c, url+"Login", loginBody("alan@example.com", "wrong")); status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d for alan: %d %s", i+1, status, body)
		}
	}
	status, locked := floodPost(t, clientFrom(checkIP(0, 9)), url+"Login", loginBody("alan@example.com", alanPassword))
	if status != http.StatusForbidden || !strings.Contains(locked, `"locked"`) {
		t.Fatalf("alan after 5 failures from 3 clients: %d %s; want 403 locked", status, locked)
	}

	usage := func() (entries int, used int64) {
		if mem != nil {
			return mem.Len(), 0
		}
		return redisUsage(t, servers)
	}
	startEntries, startUsed := usage()
	maxEntries, maxUsed := startEntries, startUsed
	owner := clientFrom(checkIP(1, 0))
	check := func(round int) {
		t.Helper()
		// (a) grace logs in.
		if status, body := floodPost(t, owner, url+"Login", loginBody("grace@example.com", gracePassword)); status != http.StatusOK {
			t.Errorf("round %d: grace's login: %d %s; want 200", round, status, body)
		}
		// (b) a reset for a known and an unknown address, alike.
		probe := clientFrom(checkIP(2, round))
		ks, known := floodPost(t, probe, url+"PasswordReset", `{"emailaddress":"grace@example.com"}`)
		us, unknown := floodPost(t, probe, url+"PasswordReset", `{"emailaddress":"nobody-`+strconv.Itoa(round)+`@example.com"}`)
		if ks != us || known != unknown || ks != http.StatusOK {
			t.Errorf("round %d: reset for a known address %d %s, for an unknown one %d %s; want both 200 and alike", round, ks, known, us, unknown)
		}
		// (c) alan is still locked, with the same answer.
		if status, body := floodPost(t, clientFrom(checkIP(3, round)), url+"Login", loginBody("alan@example.com", alanPassword)); status != http.StatusForbidden || body != locked {
			t.Errorf("round %d: alan with his password: %d %s; want %s", round, status, body, locked)
		}
		// (d) the store's size.
		e, u := usage()
		maxEntries, maxUsed = max(maxEntries, e), max(maxUsed, u)
	}

	var (
		next    atomic.Int64
		answers sync.Map // "kind status code" → *atomic.Int64
		bad     atomic.Int64
	)
	clients := make([]*http.Client, floodAddresses)
	for a := range clients {
		clients[a] = clientFrom(floodIP(a))
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()
	flood := func(end int64) {
		var wg sync.WaitGroup
		for range floodWorkers {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= end {
						next.Add(-1)
						return
					}
					k := floodKindOf(int(i))
					status, code := floodRequest(clients[floodAddr(int(i))], url, k, int(i))
					key := fmt.Sprintf("%s %d %s", floodClass[k], status, code)
					v, _ := answers.LoadOrStore(key, new(atomic.Int64))
					v.(*atomic.Int64).Add(1)
					if !floodExpected(k, status) {
						if bad.Add(1) <= 5 {
							t.Errorf("flood request %d (%s): %d %s", i, floodClass[k], status, code)
						}
					}
				}
			})
		}
		wg.Wait()
	}
	start := time.Now()
	for round := range floodRounds {
		end := int64(n) * int64(round+1) / floodRounds
		done := make(chan struct{})
		go func() { flood(end); close(done) }()
		check(round) // while this round's share of the flood runs
		<-done
	}
	elapsed := time.Since(start)
	check(floodRounds)
	entries, used := usage()
	maxEntries, maxUsed = max(maxEntries, entries), max(maxUsed, used)

	var summary []string
	answers.Range(func(k, v any) bool {
		summary = append(summary, fmt.Sprintf("%s: %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("%d requests in %v (%.0f/s); answers: %s", n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), strings.Join(summary, ", "))
	if bad.Load() > 0 {
		t.Errorf("%d flood answers were neither 200, 401 nor 429", bad.Load())
	}
	grown := maxEntries - startEntries
	if mem != nil {
		u := mem.Usage()
		t.Logf("memory store: %d entries before the flood, at most %d during and after it (+%d), bound +%d; now %+v", startEntries, maxEntries, grown, bound, u)
		if grown > bound {
			t.Errorf("the memory store grew by %d entries, over the bound of %d", grown, bound)
		}
		if u.Evicted != 0 {
			t.Errorf("%d entries evicted: the flood filled the counter budget", u.Evicted)
		}
		return
	}
	usedBound := int64(bound)*redisEntryBytes + redisSlack
	perEntry := float64(maxUsed-startUsed) / float64(max(grown, 1))
	t.Logf("Redis: %d keys and used_memory %d B before the flood; at most +%d keys (bound +%d) and +%d B (bound +%d B, %.0f B a key)",
		startEntries, startUsed, grown, bound, maxUsed-startUsed, usedBound, perEntry)
	if grown > bound {
		t.Errorf("Redis grew by %d keys, over the bound of %d", grown, bound)
	}
	if maxUsed-startUsed > usedBound {
		t.Errorf("Redis used_memory grew by %d B, over the bound of %d B", maxUsed-startUsed, usedBound)
	}
}

// floodExpected reports whether a stranger's request of kind k may answer
// status: its own answer, or 429 once its client's limit is spent.
func floodExpected(k floodKind, status int) bool {
	switch k {
	case floodReset:
		return status == http.StatusOK || status == http.StatusTooManyRequests
	default:
		return status == http.StatusUnauthorized || status == http.StatusTooManyRequests
	}
}

// floodRequest sends request i of kind k and returns its status and
// error code.
func floodRequest(c *http.Client, url string, k floodKind, i int) (int, string) {
	var path, body string
	switch k {
	case floodReset:
		path, body = "PasswordReset", fmt.Sprintf(`{"emailaddress":"nobody-%d@flood.example"}`, i)
	case floodLogin:
		path, body = "Login", loginBody(fmt.Sprintf("nobody-%d@flood.example", i), "guess")
	case floodVerify:
		id, value := bogusVerification()
		path, body = "Validation", fmt.Sprintf(`{"ValidationID":%q,"ValidationVal":%q}`, id, value)
	}
	res, err := c.Post(url+path, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	var p struct{ Code string }
	b, _ := io.ReadAll(res.Body)
	json.Unmarshal(b, &p)
	return res.StatusCode, p.Code
}

// bogusVerification returns a ValidationID and ValidationVal pair of the
// shape auth issues, the id carrying the hash of the value, as anyone can
// make one: it passes every check before the store and is looked up
// there, a miss.
func bogusVerification() (id, value string) {
	const tagAlphabet = "abcdefghijklmnopqrstuvwxyz234567"
	var b [32]byte
	rand.Read(b[:])
	tag := make([]byte, 4)
	for i := range tag {
		tag[i] = tagAlphabet[b[i]%32]
	}
	rand.Read(b[:])
	value = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte("ghv_" + string(tag) + "_" + value))
	return "vid_" + string(tag) + "_" + base64.RawURLEncoding.EncodeToString(sum[:]), value
}

func loginBody(email, pw string) string {
	return fmt.Sprintf(`{"emailaddress":%q,"password":%q}`, email, base64.StdEncoding.EncodeToString([]byte(pw)))
}

// floodPost posts body and returns the status and the answer's body.
func floodPost(t *testing.T, c *http.Client, url, body string) (int, string) {
	t.Helper()
	res, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// redisUsage returns the keys and the used_memory of the servers, summed.
func redisUsage(t *testing.T, addrs []string) (keys int, used int64) {
	t.Helper()
	for _, addr := range addrs {
		c := goredis.NewClient(&goredis.Options{Addr: addr})
		n, err := c.DBSize(t.Context()).Result()
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(t.Context(), "memory").Result()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		u, ok := infoField(info, "used_memory")
		if !ok {
			t.Fatalf("no used_memory in INFO memory of %s", addr)
		}
		keys += int(n)
		used += u
	}
	return keys, used
}

func infoField(info, name string) (int64, bool) {
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}

// The app's two contacts: grace (verified) and alan (not verified).
const (
	gracePassword = "hopper-secret"
	alanPassword  = "turing-secret"
)

// contacts is the app's user table, as examples/contacts keeps it.
type contacts struct {
	mu    sync.Mutex
	users map[string]auth.User // by email
}

func newContacts(h password.Hasher) (*contacts, error) {
	d := &contacts{users: map[string]auth.User{}}
	for _, c := range []struct {
		email, subject, pw string
		verified           bool
	}{{"grace@example.com", "1906", gracePassword, true}, {"alan@example.com", "1912", alanPassword, false}} {
		hash, err := h.Hash([]byte(c.pw))
		if err != nil {
			return nil, err
		}
		d.users[c.email] = auth.User{Subject: c.subject, PasswordHash: hash, Active: true, EmailConfirmed: c.verified, Email: c.email}
	}
	return d, nil
}

func (d *contacts) FindUser(_ context.Context, login string) (auth.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u, ok := d.users[login]; ok {
		return u, nil
	}
	return auth.User{}, auth.ErrUnknownUser
}

func (d *contacts) UpdatePasswordHash(_ context.Context, subject string, hash []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for email, u := range d.users {
		if u.Subject == subject {
			u.PasswordHash = hash
			d.users[email] = u
		}
	}
	return nil
}

// quickHasher stands in for bcrypt where the test is about the store, not
// the CPU: a salted SHA-256, compared in constant time. Under -race even
// bcrypt's lowest cost takes 12 ms, and the flood's logins would spend
// their time in it; attack 5 (TestAttack5JunkLoginsCannotStarveOthers)
// is the one about hashing.
type quickHasher struct{}

func (quickHasher) Hash(pw []byte) ([]byte, error) {
	var salt [8]byte
	rand.Read(salt[:])
	sum := sha256.Sum256(append(salt[:], pw...))
	return append(salt[:], sum[:]...), nil
}

func (quickHasher) Compare(hash, pw []byte) error {
	if len(hash) != 8+sha256.Size {
		return errors.New("quickHasher: not a hash")
	}
	sum := sha256.Sum256(append(slices.Clip(hash[:8]), pw...))
	if subtle.ConstantTimeCompare(sum[:], hash[8:]) != 1 {
		return errors.New("quickHasher: wrong password")
	}
	return nil
}

func (quickHasher) NeedsRehash([]byte) bool { return false }

// floodApp serves the anonymous routes of examples/contacts on st, wired
// as it wires them: auth with the example's lockout, unconfirmed logins
// allowed, a mailer, the default minimum reset time and the default rate
// limits (auth's own for logins; limit.Reset and limit.Verify on the
// other routes); its answers are the example's. The hasher is the test's
// (quickHasher), and so is a long wait for a hashing slot, so that a
// loaded machine cannot turn a wait in the fair queue into a 503 busy.
func floodApp(t *testing.T, st store.Store) *httptest.Server {
	t.Helper()
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey})
	if err != nil {
		t.Fatal(err)
	}
	h := quickHasher{}
	dir, err := newContacts(h)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(auth.Config{Users: dir, Tokens: tm, Counters: st, Hasher: h, Lockout: floodLockout,
		AllowUnconfirmed: true, Mailer: &authtest.Outbox{}, HashWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	limits, err := limit.New(limit.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	limited := func(class limit.Class, h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if err := limits.Allow(r.Context(), class, clientaddr.FromRequest(r), ""); err != nil {
				problem.Write(w, err)
				return
			}
			h(w, r)
		}
	}
	decode := func(w http.ResponseWriter, r *http.Request, v any) bool {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10)).Decode(v); err != nil {
			problem.Write(w, &problem.Error{Status: http.StatusBadRequest, Code: "invalid_json", Message: "the body is not JSON"})
			return false
		}
		return true
	}
	reply := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/Login", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ EmailAddress, Password string }
		if !decode(w, r, &req) {
			return
		}
		pw, err := base64.StdEncoding.DecodeString(req.Password)
		if err != nil {
			problem.Write(w, &problem.Error{Status: http.StatusBadRequest, Code: "invalid_base64", Message: "the password is not Base64"})
			return
		}
		sess, err := a.Login(r.Context(), auth.Credentials{Login: req.EmailAddress, Password: string(pw), Client: clientaddr.FromRequest(r)}, "")
		if err != nil {
			problem.Write(w, err)
			return
		}
		reply(w, struct{ SessionToken string }{sess.Token})
	})
	mux.HandleFunc("POST /api/PasswordReset", limited(limit.Reset, func(w http.ResponseWriter, r *http.Request) {
		var req struct{ EmailAddress string }
		if !decode(w, r, &req) {
			return
		}
		err := a.RequestPasswordReset(r.Context(), req.EmailAddress)
		var fe *auth.FieldError
		if errors.As(err, &fe) || errors.Is(err, store.ErrUnavailable) {
			problem.Write(w, err)
			return
		}
		reply(w, struct{ ResponseMessage string }{"If a contact has this email address, a link to reset the password has been sent to it."})
	}))
	mux.HandleFunc("POST /api/Validation", limited(limit.Verify, func(w http.ResponseWriter, r *http.Request) {
		var req struct{ ValidationID, ValidationVal string }
		if !decode(w, r, &req) {
			return
		}
		if _, err := a.RedeemVerification(r.Context(), req.ValidationID, req.ValidationVal); err != nil {
			problem.Write(w, err)
			return
		}
		reply(w, struct{ ResponseMessage string }{"verified"})
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}
