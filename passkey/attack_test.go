package passkey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// logBuf collects the audit log as JSON lines.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// events returns the events logged since the last call, each as its
// attributes, and forgets them.
func (b *logBuf) events(t testing.TB) []map[string]string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]string
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		s := map[string]string{}
		for k, v := range m {
			if str, ok := v.(string); ok {
				s[k] = str
			}
		}
		out = append(out, s)
	}
	b.buf.Reset()
	return out
}

func withLog(b *logBuf) func(*passkey.Config) {
	return func(c *passkey.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(b, nil))
	}
}

// lastFailure checks that the last event is passkey.failed with reason.
func lastFailure(t testing.TB, b *logBuf, reason string) {
	t.Helper()
	ev := b.events(t)
	if len(ev) == 0 {
		t.Fatalf("no audit event, want passkey.failed %s", reason)
	}
	last := ev[len(ev)-1]
	if last["event"] != "passkey.failed" || last["reason"] != reason {
		t.Fatalf("last event %v, want passkey.failed with reason %s", last, reason)
	}
}

// TestLoginRefusals: every tampering of a second-factor login is refused
// with its own stable code and audited as passkey.failed with that code;
// none spends the passkey, which logs in right after.
func TestLoginRefusals(t *testing.T) {
	var log logBuf
	eachStore(t, withLog(&log), func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.register(t, "u:1")
		other := e.register(t, "u:2")
		stranger := passkeytest.New(origin)
		reg, _ := e.m.BeginRegistration(ctx, "u:3", "u3", "")
		_, unregistered, err := stranger.Register(reg)
		ok(t, "Register", err)
		session, err := e.tm.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u:1"})
		ok(t, "Issue", err)
		log.events(t)
		for _, row := range []struct {
			name string
			key  *passkeytest.Key
			opts []passkeytest.Option
			want error
		}{
			{"UV off", k, []passkeytest.Option{passkeytest.WithoutUV()}, passkey.ErrUserVerificationRequired},
			{"UP off", k, []passkeytest.Option{passkeytest.WithoutUP()}, passkey.ErrInvalidCredential},
			{"wrong origin", k, []passkeytest.Option{passkeytest.WithOrigin("https://evil.example")}, passkey.ErrInvalidCredential},
			{"sibling origin", k, []passkeytest.Option{passkeytest.WithOrigin("https://login.example.com")}, passkey.ErrInvalidCredential},
			{"wrong RP ID", k, []passkeytest.Option{passkeytest.WithRPID("evil.example")}, passkey.ErrInvalidCredential},
			{"wrong challenge", k, []passkeytest.Option{passkeytest.WithChallenge(bytes.Repeat([]byte{1}, 32))}, passkey.ErrInvalidChallenge},
			{"a session as challenge", k, []passkeytest.Option{passkeytest.WithChallenge([]byte(session.Token))}, passkey.ErrInvalidChallenge},
			{"create type", k, []passkeytest.Option{passkeytest.WithType("webauthn.create")}, passkey.ErrInvalidCredential},
			{"flipped signature", k, []passkeytest.Option{passkeytest.WithFlippedSignature()}, passkey.ErrInvalidCredential},
			{"other user handle", k, []passkeytest.Option{passkeytest.WithUserHandle([]byte("u:2"))}, passkey.ErrInvalidCredential},
			{"not public-key", k, []passkeytest.Option{passkeytest.WithCredentialType("password")}, passkey.ErrMalformedResponse},
			{"oversized", k, []passkeytest.Option{passkeytest.WithPadding(20 << 10)}, passkey.ErrResponseTooLarge},
			{"another's passkey", other, nil, passkey.ErrUnknownCredential},
			{"unregistered passkey", unregistered, nil, passkey.ErrUnknownCredential},
		} {
			_, err := e.login(t, "u:1", row.key, row.opts...)
			is(t, row.name, err, row.want)
			lastFailure(t, &log, problemCode(row.want))
		}
		for name, resp := range map[string]string{
			"empty": "", "not JSON": "{", "null": "null", "array": "[]", "no id": `{"type":"public-key"}`,
			"bad base64": `{"id":"!!","rawId":"!!","type":"public-key","response":{}}`,
		} {
			_, err := e.m.FinishLogin(ctx, "u:1", []byte(resp))
			is(t, name, err, passkey.ErrMalformedResponse)
			lastFailure(t, &log, "malformed_response")
		}
		res, err := e.login(t, "u:1", k)
		ok(t, "login after the refusals", err)
		if res.Credential.SignCount != k.SignCount {
			t.Fatalf("counter %d, want %d", res.Credential.SignCount, k.SignCount)
		}
	})
}

func problemCode(err error) string { return codeOf(err) }

func codeOf(err error) string { return problem.Of(err).Code }

// TestCloneWarning: a signature counter that goes back, or stays, is
// refused by default and audited as passkey.clone_warning; with
// AllowCloneWarning it passes, audited the same, and the counter stays.
func TestCloneWarning(t *testing.T) {
	var log logBuf
	eachStore(t, withLog(&log), func(t *testing.T, e *env) {
		k := e.register(t, "u:1", passkeytest.WithoutBackup())
		for range 5 {
			_, err := e.login(t, "u:1", k)
			ok(t, "login", err)
		}
		log.events(t)
		for _, n := range []uint32{4, 5, 0} {
			_, err := e.login(t, "u:1", k, passkeytest.WithCounter(n))
			is(t, "counter back", err, passkey.ErrCloneDetected)
			ev := log.events(t)
			if len(ev) != 2 || ev[0]["event"] != "passkey.clone_warning" || ev[0]["level"] != "WARN" ||
				ev[0]["credential"] != k.IDString() || ev[1]["reason"] != "clone_detected" {
				t.Fatalf("events %v", ev)
			}
		}
		list, _ := e.m.List(t.Context(), "u:1")
		if list[0].SignCount != 5 {
			t.Fatalf("counter %d after refusals, want 5", list[0].SignCount)
		}

		e.cfg.AllowCloneWarning = true
		lax, err := passkey.New(e.cfg)
		ok(t, "New", err)
		o, _ := lax.BeginLogin(t.Context(), "u:1")
		resp, _ := e.auth.Login(o, k, passkeytest.WithCounter(3))
		res, err := lax.FinishLogin(t.Context(), "u:1", resp)
		ok(t, "AllowCloneWarning", err)
		if !res.CloneWarning || res.Credential.SignCount != 5 {
			t.Fatalf("Result %+v", res)
		}
		if ev := log.events(t); ev[0]["event"] != "passkey.clone_warning" || ev[1]["event"] != "passkey.passed" {
			t.Fatalf("events %v", ev)
		}
	})
}

// TestZeroCounter: a synced passkey keeps its counter at 0, which is no
// clone warning however often it signs.
func TestZeroCounter(t *testing.T) {
	var log logBuf
	e := memEnv(t, withLog(&log))
	k := e.register(t, "u:1")
	for range 3 {
		res, err := e.login(t, "u:1", k, passkeytest.WithCounter(0))
		if err != nil || res.CloneWarning || res.Credential.SignCount != 0 {
			t.Fatalf("login with counter 0: %+v, %v", res, err)
		}
	}
	for _, ev := range log.events(t) {
		if ev["event"] == "passkey.clone_warning" {
			t.Fatalf("clone warning for a zero counter: %v", ev)
		}
	}
}

// TestRegistrationRefusals: each tampering of a registration is refused
// with its code and audited, and stores nothing.
func TestRegistrationRefusals(t *testing.T) {
	var log logBuf
	eachStore(t, func(c *passkey.Config) {
		withLog(&log)(c)
		c.Algorithms = []int{passkey.AlgES256}
	}, func(t *testing.T, e *env) {
		ctx := t.Context()
		login := e.register(t, "u:9")
		loginOpts, err := e.m.BeginLogin(ctx, "u:9")
		ok(t, "BeginLogin", err)
		log.events(t)
		for _, row := range []struct {
			name    string
			subject string // who finishes; "u:1" begins
			opts    []passkeytest.Option
			options []byte // answered instead of u:1's creation options
			want    error
		}{
			{"UV off", "u:1", []passkeytest.Option{passkeytest.WithoutUV()}, nil, passkey.ErrUserVerificationRequired},
			{"EdDSA not allowed", "u:1", []passkeytest.Option{passkeytest.WithAlgorithm(passkeytest.EdDSA)}, nil, passkey.ErrUnsupportedAlgorithm},
			{"RS256 not allowed", "u:1", []passkeytest.Option{passkeytest.WithAlgorithm(passkeytest.RS256)}, nil, passkey.ErrUnsupportedAlgorithm},
			{"wrong origin", "u:1", []passkeytest.Option{passkeytest.WithOrigin("https://evil.example")}, nil, passkey.ErrInvalidCredential},
			{"wrong RP ID", "u:1", []passkeytest.Option{passkeytest.WithRPID("evil.example")}, nil, passkey.ErrInvalidCredential},
			{"get type", "u:1", []passkeytest.Option{passkeytest.WithType("webauthn.get")}, nil, passkey.ErrInvalidCredential},
			{"UP off", "u:1", []passkeytest.Option{passkeytest.WithoutUP()}, nil, passkey.ErrInvalidCredential},
			{"oversized", "u:1", []passkeytest.Option{passkeytest.WithPadding(20 << 10)}, nil, passkey.ErrResponseTooLarge},
			{"another subject's challenge", "u:2", nil, nil, passkey.ErrInvalidChallenge},
			{"a login's challenge", "u:9", nil, loginOpts, passkey.ErrInvalidChallenge},
			{"wrong challenge", "u:1", []passkeytest.Option{passkeytest.WithChallenge([]byte("ghc_abcd_" + strings.Repeat("A", 43)))}, nil, passkey.ErrInvalidChallenge},
			{"duplicate", "u:9", []passkeytest.Option{passkeytest.WithCredentialID(login.ID)}, nil, passkey.ErrExists},
		} {
			options := row.options
			if options == nil {
				begin := "u:1"
				if row.name == "duplicate" {
					begin = "u:9"
				}
				options, err = e.m.BeginRegistration(ctx, begin, "name", "")
				ok(t, "BeginRegistration", err)
			}
			resp, _, err := e.auth.Register(options, row.opts...)
			ok(t, "Register", err)
			_, err = e.m.FinishRegistration(ctx, row.subject, resp, "")
			is(t, row.name, err, row.want)
			lastFailure(t, &log, codeOf(row.want))
		}
		for _, s := range []string{"u:1", "u:2"} {
			if has, err := e.m.Has(ctx, s); has || err != nil {
				t.Fatalf("%s has a passkey after refusals (%v)", s, err)
			}
		}
		if list, _ := e.m.List(ctx, "u:9"); len(list) != 1 {
			t.Fatalf("u:9 has %d passkeys, want 1", len(list))
		}
	})
}

// TestChallengeOnce: a challenge passes once: a replayed response is
// refused, and of 100 concurrent finishes of one response exactly one
// passes, on every store.
func TestChallengeOnce(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k := e.register(t, "u:1")
		o, _ := e.m.BeginLogin(ctx, "u:1")
		resp, _ := e.auth.Login(o, k)
		_, err := e.m.FinishLogin(ctx, "u:1", resp)
		ok(t, "first", err)
		_, err = e.m.FinishLogin(ctx, "u:1", resp)
		is(t, "replay", err, passkey.ErrInvalidChallenge)

		for name, finish := range map[string]func(resp []byte) error{
			"second factor": func(resp []byte) error { _, err := e.m.FinishLogin(ctx, "u:1", resp); return err },
			"passwordless":  func(resp []byte) error { _, _, err := e.m.FinishPasswordless(ctx, resp); return err },
		} {
			var o []byte
			if name == "passwordless" {
				o, _ = e.m.BeginPasswordless(ctx)
			} else {
				o, _ = e.m.BeginLogin(ctx, "u:1")
			}
			resp, _ := e.auth.Login(o, k)
			const n = 100
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { errs[i] = finish(resp) })
			}
			wg.Wait()
			passed := 0
			for _, err := range errs {
				switch {
				case err == nil:
					passed++
				case codeOf(err) != "invalid_challenge":
					t.Fatalf("%s: %v", name, err)
				}
			}
			if passed != 1 {
				t.Fatalf("%s: %d of %d concurrent finishes passed, want 1", name, passed, n)
			}
		}
	})
}

// TestChallengeBinding: a challenge is good only for the subject and the
// ceremony it was issued for, and only within ChallengeTTL.
func TestChallengeBinding(t *testing.T) {
	eachStore(t, nil, func(t *testing.T, e *env) {
		ctx := t.Context()
		k1 := e.register(t, "u:1")
		k2 := e.register(t, "u:2")

		o, _ := e.m.BeginLogin(ctx, "u:1")
		resp, _ := e.auth.Login(o, k2)
		_, err := e.m.FinishLogin(ctx, "u:2", resp)
		is(t, "u:1's challenge finished by u:2", err, passkey.ErrInvalidChallenge)

		o, _ = e.m.BeginRegistration(ctx, "u:1", "u1", "")
		resp, _ = e.auth.Login(o, k1)
		_, err = e.m.FinishLogin(ctx, "u:1", resp)
		is(t, "registration challenge at login", err, passkey.ErrInvalidChallenge)

		o, _ = e.m.BeginLogin(ctx, "u:1")
		resp, _ = e.auth.Login(o, k1)
		_, _, err = e.m.FinishPasswordless(ctx, resp)
		is(t, "second-factor challenge at passwordless", err, passkey.ErrInvalidChallenge)

		o, _ = e.m.BeginPasswordless(ctx)
		resp, _ = e.auth.Login(o, k1)
		_, err = e.m.FinishLogin(ctx, "u:1", resp)
		is(t, "passwordless challenge at second factor", err, passkey.ErrInvalidChallenge)

		o, _ = e.m.BeginPasswordless(ctx)
		resp, _ = e.auth.Login(o, k1, passkeytest.WithUserHandle([]byte("u:2")))
		_, _, err = e.m.FinishPasswordless(ctx, resp)
		is(t, "passwordless with u:2's handle on u:1's passkey", err, passkey.ErrUnknownCredential)

		o, _ = e.m.BeginPasswordless(ctx)
		resp, _ = e.auth.Login(o, k1, passkeytest.WithUserHandle(nil))
		_, _, err = e.m.FinishPasswordless(ctx, resp)
		is(t, "passwordless without a user handle", err, passkey.ErrInvalidCredential)

		o, _ = e.m.BeginLogin(ctx, "u:1")
		resp, _ = e.auth.Login(o, k1)
		e.clock.Advance(e.tm.TTL(store.KindChallenge) + time.Second)
		_, err = e.m.FinishLogin(ctx, "u:1", resp)
		is(t, "expired", err, passkey.ErrInvalidChallenge)
	})
}

// TestUVPolicy: under UVPreferred a login without UV passes and says so;
// under UVRequired (TestLoginRefusals) it does not.
func TestUVPolicy(t *testing.T) {
	e := memEnv(t, func(c *passkey.Config) { c.UserVerification = passkey.UVPreferred })
	k := e.register(t, "u:1", passkeytest.WithoutUV())
	res, err := e.login(t, "u:1", k, passkeytest.WithoutUV())
	ok(t, "login without UV", err)
	if res.UserVerified {
		t.Fatal("UserVerified without the UV flag")
	}
	res, err = e.login(t, "u:1", k)
	if err != nil || !res.UserVerified {
		t.Fatalf("login with UV: %+v, %v", res, err)
	}
}

// TestManage: list, rename, remove, and the account's limit, checked at
// Begin and again at Finish.
func TestManage(t *testing.T) {
	eachStore(t, func(c *passkey.Config) { c.MaxCredentials = 3 }, func(t *testing.T, e *env) {
		ctx := t.Context()
		a := e.register(t, "u:1")
		b := e.register(t, "u:1", passkeytest.WithAlgorithm(passkeytest.EdDSA))
		// Two registrations begun with room for one: the second finish is
		// refused.
		o1, err := e.m.BeginRegistration(ctx, "u:1", "u1", "")
		ok(t, "Begin 3", err)
		o2, err := e.m.BeginRegistration(ctx, "u:1", "u1", "")
		ok(t, "Begin 4", err)
		r1, c, _ := e.auth.Register(o1)
		r2, _, _ := e.auth.Register(o2)
		_, err = e.m.FinishRegistration(ctx, "u:1", r1, "")
		ok(t, "Finish 3", err)
		_, err = e.m.FinishRegistration(ctx, "u:1", r2, "")
		is(t, "Finish 4", err, passkey.ErrLimit)
		_, err = e.m.BeginRegistration(ctx, "u:1", "u1", "")
		is(t, "Begin at the limit", err, passkey.ErrLimit)

		ok(t, "Rename", e.m.Rename(ctx, "u:1", b.IDString(), "YubiKey 5"))
		is(t, "Rename unknown", e.m.Rename(ctx, "u:1", "AAAA", "x"), passkey.ErrNotFound)
		is(t, "Rename another's", e.m.Rename(ctx, "u:2", b.IDString(), "x"), passkey.ErrNotFound)
		is(t, "Rename too long", e.m.Rename(ctx, "u:1", b.IDString(), strings.Repeat("x", 65)), passkey.ErrInvalidNickname)
		is(t, "Rename control", e.m.Rename(ctx, "u:1", b.IDString(), "a\nb"), passkey.ErrInvalidNickname)
		is(t, "Rename zero-width", e.m.Rename(ctx, "u:1", b.IDString(), "Phone\u200b"), passkey.ErrInvalidNickname)
		is(t, "Rename bidi override", e.m.Rename(ctx, "u:1", b.IDString(), "\u202eenohP"), passkey.ErrInvalidNickname)
		ok(t, "Remove", e.m.Remove(ctx, "u:1", a.IDString()))
		is(t, "Remove again", e.m.Remove(ctx, "u:1", a.IDString()), passkey.ErrNotFound)
		is(t, "Remove garbage", e.m.Remove(ctx, "u:1", "!!"), passkey.ErrNotFound)

		list, err := e.m.List(ctx, "u:1")
		ok(t, "List", err)
		if len(list) != 2 || list[0].ID != b.IDString() || list[0].Nickname != "YubiKey 5" || list[1].ID != c.IDString() {
			t.Fatalf("List = %+v", list)
		}
		_, err = e.login(t, "u:1", a)
		is(t, "login with a removed passkey", err, passkey.ErrUnknownCredential)
		_, err = e.login(t, "u:1", b)
		ok(t, "login with a kept one", err)

		ok(t, "Remove b", e.m.Remove(ctx, "u:1", b.IDString()))
		ok(t, "Remove c", e.m.Remove(ctx, "u:1", c.IDString()))
		if has, err := e.m.Has(ctx, "u:1"); has || err != nil || e.creds.Len() != 0 {
			t.Fatalf("after removing all: Has %v, %v; %d blobs", has, err, e.creds.Len())
		}
	})
}

// TestVerifyPasskey: the plain-typed pair mfa will call.
func TestVerifyPasskey(t *testing.T) {
	e := memEnv(t, nil)
	ctx := context.Background()
	has, err := e.m.HasPasskeys(ctx, "u:1")
	if has || err != nil {
		t.Fatalf("HasPasskeys before = %v, %v", has, err)
	}
	k := e.register(t, "u:1")
	o, _ := e.m.BeginLogin(ctx, "u:1")
	resp, _ := e.auth.Login(o, k)
	ok(t, "VerifyPasskey", e.m.VerifyPasskey(ctx, "u:1", string(resp)))
	is(t, "VerifyPasskey replay", e.m.VerifyPasskey(ctx, "u:1", string(resp)), passkey.ErrInvalidChallenge)
}

// TestConcurrentLogins: logins of one account at once, each with its own
// challenge, all pass: the counter's compare-and-swap retries on a
// conflict instead of failing (synced passkeys, counter 0), and the
// account's passkeys come out whole.
func TestConcurrentLogins(t *testing.T) {
	e := memEnv(t, nil)
	ctx := t.Context()
	k := e.register(t, "u:1")
	other := e.register(t, "u:1")
	const n = 20
	resps := make([][]byte, n)
	for i := range resps {
		o, err := e.m.BeginLogin(ctx, "u:1")
		ok(t, "BeginLogin", err)
		key := k
		if i%2 == 1 {
			key = other
		}
		resps[i], err = e.auth.Login(o, key, passkeytest.WithCounter(0))
		ok(t, "Login", err)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = e.m.FinishLogin(ctx, "u:1", resps[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		ok(t, "concurrent login "+string(rune('a'+i)), err)
	}
	list, err := e.m.List(ctx, "u:1")
	ok(t, "List", err)
	if len(list) != 2 || list[0].LastUsed.IsZero() || list[1].LastUsed.IsZero() {
		t.Fatalf("List = %+v", list)
	}
}
