//go:build !race

// Timing means nothing under the race detector (it slows bcrypt twenty
// times), so this row is built without it; make test runs it in a second,
// race-free pass.

package proof

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// many is a user table of any number of accounts: "known-N@example.com"
// exists (subject kN), anything else does not.
type many struct{ hash []byte }

func (u many) FindUser(_ context.Context, login string) (auth.User, error) {
	if n, ok := strings.CutPrefix(login, "known-"); ok {
		return auth.User{Subject: "k" + strings.TrimSuffix(n, "@example.com"), PasswordHash: u.hash, Active: true, EmailConfirmed: true}, nil
	}
	return auth.User{}, auth.ErrUnknownUser
}

func (many) UpdatePasswordHash(context.Context, string, []byte) error { return nil }

// interleave times a and b, samples times each, alternating so that the
// machine's noise falls on both alike, and returns the two medians. Each
// sample runs its function batch times.
func interleave(t *testing.T, samples, batch int, a, b func(i int) error) (time.Duration, time.Duration) {
	t.Helper()
	var da, db []time.Duration
	run := func(f func(int) error, i int, into *[]time.Duration) {
		start := time.Now()
		for j := range batch {
			if err := f(i*batch + j); err != nil {
				t.Fatal(err)
			}
		}
		*into = append(*into, time.Since(start))
	}
	for i := range samples {
		if i%2 == 0 {
			run(a, i, &da)
			run(b, i, &db)
		} else {
			run(b, i, &db)
			run(a, i, &da)
		}
	}
	slices.Sort(da)
	slices.Sort(db)
	return da[len(da)/2], db[len(db)/2]
}

func within10(t *testing.T, what string, a, b time.Duration) {
	t.Helper()
	ratio := float64(max(a, b)) / float64(min(a, b))
	t.Logf("%s: medians %v and %v (%.3fx)", what, a, b, ratio)
	if ratio > 1.10 {
		t.Errorf("%s: medians %v and %v differ by %.0f%%, want at most 10%%", what, a, b, (ratio-1)*100)
	}
}

// TestRow06Timing: at bcrypt cost 10, 200 interleaved samples each: an
// unknown user and a wrong password take the same time (medians within
// 10 %) and exactly one password comparison each; a locked account
// answers a right and a wrong password alike and compares none; a reset
// request for a known and an unknown address take the same time over HTTP.
func TestRow06Timing(t *testing.T) {
	if testing.Short() {
		t.Skip("timing takes half a minute at bcrypt cost 10")
	}
	clock := fakeclock.New(time.Now())
	st := memory.New(memory.Options{Now: clock.Now})
	defer st.Close()
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: testfix.TagKey, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := &authtest.Hasher{Bcrypt: password.Bcrypt{Cost: 10}}
	hash, _ := h.Hash([]byte(rightPassword))
	box := &authtest.Outbox{}
	// Hundreds of timed logins from one address: the rate limit, which
	// answers known and unknown users alike, would only cut the sample.
	a, err := auth.New(auth.Config{Users: many{hash}, Tokens: tm, Counters: st, Hasher: h, Mailer: box, Now: clock.Now, NoRateLimits: true})
	if err != nil {
		t.Fatal(err)
	}
	login := func(name, pw string) error {
		_, err := a.Login(ctx, auth.Credentials{Login: name, Password: pw, Client: netip.MustParsePrefix("192.0.2.1/32")}, "")
		if !errors.Is(err, auth.ErrInvalidCredentials) {
			return fmt.Errorf("login %s: %v, want invalid credentials", name, err)
		}
		return nil
	}
	h.Compares.Store(0)
	unknown, wrong := interleave(t, 200, 1,
		func(i int) error { return login(fmt.Sprintf("nobody-%d@example.com", i), rightPassword) },
		func(i int) error { return login(fmt.Sprintf("known-%d@example.com", i), "wrong") })
	within10(t, "unknown user vs wrong password", unknown, wrong)
	if n := h.Compares.Load(); n != 400 {
		t.Errorf("%d comparisons for 400 failed logins, want exactly 400", n)
	}

	// A locked account: lock known-0 on an authenticator whose limit is 1
	// per client.
	strict, err := auth.New(auth.Config{Users: many{hash}, Tokens: tm, Counters: st, Hasher: h,
		Lockout: auth.Lockout{MaxFailures: 2, MaxFailuresPerClient: 1}, Now: clock.Now, NoRateLimits: true})
	if err != nil {
		t.Fatal(err)
	}
	locked := func(pw string) func(int) error {
		return func(int) error {
			_, err := strict.Login(ctx, auth.Credentials{Login: "known-0@example.com", Password: pw, Client: netip.MustParsePrefix("192.0.2.2/32")}, "")
			var le *auth.LockedError
			if !errors.As(err, &le) {
				return fmt.Errorf("locked login: %v, want LockedError", err)
			}
			return nil
		}
	}
	_ = locked("wrong")(0) // the failure that locks
	h.Compares.Store(0)
	right, wrongLocked := interleave(t, 200, 50, locked(rightPassword), locked("wrong"))
	within10(t, "locked: right vs wrong password (50 per sample)", right, wrongLocked)
	if n := h.Compares.Load(); n != 0 {
		t.Errorf("%d comparisons while locked, want 0", n)
	}

	// No linkage (issue 14, attack 3): a client that used up its attempt
	// on known-hN's username is held on the account's address, which
	// then answers as an unknown address does, in the same time, after
	// one comparison (against the dummy).
	const held = 100
	for i := range held {
		_ = strictLogin(strict, fmt.Sprintf("known-h%d", i), "wrong")
	}
	h.Compares.Store(0)
	heldT, unknownT := interleave(t, held, 1,
		func(i int) error {
			return invalid(strictLogin(strict, fmt.Sprintf("known-h%d@example.com", i), rightPassword))
		},
		func(i int) error {
			return invalid(strictLogin(strict, fmt.Sprintf("nobody-h%d@example.com", i), rightPassword))
		})
	within10(t, "held account's other name vs unknown name", heldT, unknownT)
	if n := h.Compares.Load(); n != 2*held {
		t.Errorf("%d comparisons for %d held and %d unknown logins, want one each", n, held, held)
	}

	// Resets are timed as a client sees them, over loopback HTTP. The two
	// paths do the same number of store calls, but a known address also
	// issues a token and mails it; Config.ResetMinDuration (10 ms) is what
	// hides that. Every known address is asked for once, so the
	// per-account mail limit never changes the work done.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.RequestPasswordReset(r.Context(), r.FormValue("email")); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, `{"msg":"if the address is ours, a link is on its way"}`)
	}))
	defer srv.Close()
	reset := func(email string) error {
		resp, err := srv.Client().PostForm(srv.URL, url.Values{"email": {email}})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil || resp.StatusCode != 200 {
			return fmt.Errorf("reset %s: %d %v", email, resp.StatusCode, err)
		}
		return nil
	}
	known, unknownReset := interleave(t, 200, 1,
		func(i int) error { return reset(fmt.Sprintf("known-%d@example.com", 1000+i)) },
		func(i int) error { return reset(fmt.Sprintf("nobody-%d@example.com", i)) })
	within10(t, "reset over HTTP: known vs unknown address", known, unknownReset)
	if len(box.Messages()) != 200 {
		t.Errorf("%d reset messages, want 200", len(box.Messages()))
	}
}

// strictLogin logs in through name from 192.0.2.3.
func strictLogin(a *auth.Authenticator, name, pw string) error {
	_, err := a.Login(ctx, auth.Credentials{Login: name, Password: pw, Client: netip.MustParsePrefix("192.0.2.3/32")}, "")
	return err
}

// invalid is nil for ErrInvalidCredentials, else an error saying what came.
func invalid(err error) error {
	if !errors.Is(err, auth.ErrInvalidCredentials) {
		return fmt.Errorf("%v, want invalid credentials", err)
	}
	return nil
}
