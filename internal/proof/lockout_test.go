package proof

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/redistest"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/store/redis"
)

// answer is what a login returned: status, body, and the known-device
// proof it set.
type answer struct {
	status int
	body   string
	proof  string
}

// loginAs posts a JSON login from c, with the known-device cookie when
// proof is set. The cookie is Secure, which Go's cookie jar would not
// send over the test's plain HTTP, so it is set by hand.
func loginAs(t *testing.T, c *http.Client, url, user, pw, proof string) answer {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "POST", url, strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw)))
	req.Header.Set("Content-Type", "application/json")
	if proof != "" {
		req.AddCookie(&http.Cookie{Name: auth.KnownDeviceCookie, Value: proof})
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, body: string(b)}
	for _, ck := range res.Cookies() {
		if ck.Name == auth.KnownDeviceCookie {
			a.proof = ck.Value
		}
	}
	if a.status == http.StatusOK {
		a.body = "" // holds a fresh token
	}
	return a
}

// withoutUntil drops the lock's end from a locked answer, which differs by
// the milliseconds between two requests.
func withoutUntil(a answer) answer {
	if i := strings.Index(a.body, `"until"`); i >= 0 {
		a.body = a.body[:i]
	}
	return a
}

// TestAttack3NoIdentifierLinkage is attack 3 of issue 14, over HTTP on
// every store. Before: 5 wrong passwords on "ada", then one try on
// "ada@example.com" from the same client answered 403 locked at once,
// while the address of another account, or of nobody, answered 401 after
// a hash: the answer linked the two names. Now, after the client is
// locked out of "ada", its tries on "ada@example.com" and on
// "nobody@example.com" answer alike, attempt for attempt (401 four
// times, then 403), each after one password check; and none of those on
// ada's address checks ada's real password, the right one included.
func TestAttack3NoIdentifierLinkage(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			srv, h := loginApp(t, sf.Open(t, time.Now), auth.Config{Lockout: auth.Lockout{MaxFailures: 10, MaxFailuresPerClient: 5}})
			url, c := srv.URL+"/login", clientFrom("127.0.0.2")
			for range 5 {
				loginAs(t, c, url, "ada", "wrong", "")
			}
			if a := loginAs(t, c, url, "ada", "wrong", ""); a.status != http.StatusForbidden {
				t.Fatalf("6th through ada: %d %s, want 403 locked", a.status, a.body)
			}
			real := h.WatchCompares.Load()
			for i := range 6 {
				pw := "wrong"
				if i == 0 {
					pw = rightPassword
				}
				before := h.Compares.Load()
				same := withoutUntil(loginAs(t, c, url, "ada@example.com", pw, ""))
				sameChecks := h.Compares.Load() - before
				before = h.Compares.Load()
				other := withoutUntil(loginAs(t, c, url, "nobody@example.com", pw, ""))
				otherChecks := h.Compares.Load() - before
				if same != other || sameChecks != otherChecks {
					t.Fatalf("attempt %d: ada's address answered %d %q after %d checks, nobody's %d %q after %d",
						i+1, same.status, same.body, sameChecks, other.status, other.body, otherChecks)
				}
				want := http.StatusUnauthorized
				if i == 5 {
					want = http.StatusForbidden
				}
				if same.status != want {
					t.Fatalf("attempt %d through the address: %d, want %d", i+1, same.status, want)
				}
			}
			if n := h.WatchCompares.Load() - real; n != 0 {
				t.Fatalf("%d checks of ada's password through her address after the client used up its attempts, want 0", n)
			}
		})
	}
}

// TestAttack4OneClientCannotLockOthersOut is attack 4 of issue 14, over
// HTTP on every store, with Lockout{MaxFailures: 5} as examples/contacts
// had it. Before: the per-client limit defaulted to the account's, so 5
// requests from the attacker's address locked the owner out everywhere
// for 15 minutes, renewable forever. Now 50 from one address leave the
// owner logging in from another; it takes failures from a second client
// to lock the account for every client but the owner's known device.
func TestAttack4OneClientCannotLockOthersOut(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			srv, _ := loginApp(t, sf.Open(t, time.Now), auth.Config{Lockout: auth.Lockout{MaxFailures: 5}})
			url := srv.URL + "/login"
			owner, attacker := clientFrom("127.0.0.3"), clientFrom("127.0.0.2")
			first := loginAs(t, owner, url, "ada", rightPassword, "")
			if first.status != http.StatusOK || first.proof == "" {
				t.Fatalf("owner's first login: %d, proof %q", first.status, first.proof)
			}
			for range 50 {
				loginAs(t, attacker, url, "ada", "wrong", "")
			}
			if a := loginAs(t, clientFrom("127.0.0.4"), url, "ada", rightPassword, ""); a.status != http.StatusOK {
				t.Fatalf("owner from a new address after 50 failures from one client: %d %s, want 200", a.status, a.body)
			}
			loginAs(t, clientFrom("127.0.0.5"), url, "ada", "wrong", "") // a second client: 5 in all
			if a := loginAs(t, clientFrom("127.0.0.6"), url, "ada", rightPassword, ""); a.status != http.StatusForbidden {
				t.Fatalf("after failures from two clients: %d, want 403 locked", a.status)
			}
			if a := loginAs(t, owner, url, "ada", rightPassword, first.proof); a.status != http.StatusOK {
				t.Fatalf("owner's known device: %d %s, want 200", a.status, a.body)
			}
		})
	}
}

// TestAttack6SuccessRefillsNothing is attack 6 of issue 14, over HTTP on
// every store. Before: each of the owner's logins reset the account's
// count, so 90 wrong guesses interleaved with them never locked it. Now
// the owner's success ends only its own count: of 90 guesses from 90
// addresses between the owner's logins, 10 (the account limit) are
// checked, and the owner, from its known device, logs in throughout.
func TestAttack6SuccessRefillsNothing(t *testing.T) {
	for _, sf := range teststores.All() {
		t.Run(sf.Name, func(t *testing.T) {
			srv, h := loginApp(t, sf.Open(t, time.Now), auth.Config{})
			url, owner := srv.URL+"/login", clientFrom("127.0.0.3")
			proof := loginAs(t, owner, url, "ada", rightPassword, "").proof
			checks := h.WatchCompares.Load()
			var refused int
			for round := range 30 {
				for i := range 3 {
					n := round*3 + i
					a := loginAs(t, clientFrom(fmt.Sprintf("127.0.1.%d", n+1)), url, "ada", "wrong", "")
					if a.status == http.StatusForbidden {
						refused++
					}
				}
				a := loginAs(t, owner, url, "ada", rightPassword, proof)
				if a.status != http.StatusOK {
					t.Fatalf("owner's login in round %d: %d %s", round+1, a.status, a.body)
				}
				proof = a.proof
			}
			guesses := h.WatchCompares.Load() - checks - 30 // less the owner's
			if guesses != 10 || refused != 80 {
				t.Fatalf("of 90 guesses, %d checked and %d refused locked; want 10 and 80", guesses, refused)
			}
		})
	}
}

// TestLoginRoundTrips counts what a login costs the store, with go-redis
// hooks: a wrong password is 1 command and 1 wait (the one script that
// checks the locks and counts the try), a right one 3 commands in 2 waits
// (the count, then the script that ends the client's count sent beside
// the session's put); the rate limiter, on by default, adds one of each
// before them. Before the lockout was one script it was 6 and 8 commands.
func TestLoginRoundTrips(t *testing.T) {
	for name, spec := range map[string]func() string{
		"Redis":        func() string { return "redis://" + redistest.SharedStandalone(t).Addr },
		"RedisCluster": func() string { return strings.Join(redistest.SharedCluster(t).Addrs, ",") },
	} {
		t.Run(name, func(t *testing.T) {
			c, err := redis.NewClient(spec())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			cnt, rts := &redistest.Commands{}, &redistest.RoundTrips{Grace: 300 * time.Millisecond}
			c.AddHook(cnt) // on a cluster, once per command, whichever node takes it
			c.AddHook(rts)
			st, err := redis.New(c, redis.Options{Prefix: "rt" + fmt.Sprint(time.Now().UnixNano())})
			if err != nil {
				t.Fatal(err)
			}
			for _, limited := range []bool{true, false} {
				srv, _ := loginApp(t, st, auth.Config{NoRateLimits: !limited})
				url, cl := srv.URL+"/login", clientFrom("127.0.0.2")
				loginAs(t, cl, url, "ada", rightPassword, "") // loads the scripts, warms the slot map
				loginAs(t, cl, url, "ada", "wrong", "")
				// The login itself waits on the store twice: it counts the
				// attempt (checking the locks), then issues the session
				// while the client's counts are taken back. The limiter,
				// when on, is one more wait before either.
				fence := map[bool]int{true: 1}[limited]
				for _, tc := range []struct {
					pw       string
					commands int64
					trips    int
				}{{"wrong", 1, 1}, {rightPassword, 3, 2}} {
					cnt.N.Store(0)
					rts.Reset()
					loginAs(t, cl, url, "ada", tc.pw, "")
					which := map[bool]string{true: "right", false: "wrong"}[tc.pw == rightPassword]
					if n := cnt.N.Load(); n != tc.commands+int64(fence) {
						t.Errorf("limiter %v: a login with the %s password sent %d commands, want %d", limited, which, n, tc.commands+int64(fence))
					}
					if n := rts.N(); n != tc.trips+fence {
						t.Errorf("limiter %v: a login with the %s password waited on the store %d times, want %d", limited, which, n, tc.trips+fence)
					}
				}
			}
		})
	}
}
