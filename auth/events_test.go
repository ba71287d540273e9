package auth_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
)

// eventLog is a slog handler's output, read back as events.
type eventLog struct {
	mu       sync.Mutex
	buf, all bytes.Buffer // since the last take, and ever
}

func (l *eventLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	return l.buf.Write(p)
}

func (l *eventLog) logger() *slog.Logger { return slog.New(slog.NewJSONHandler(l, nil)) }

func (l *eventLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// take returns the events logged since the last take.
func (l *eventLog) take(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	l.buf.Reset()
	return out
}

// want checks that the events are exactly the named ones with the given
// attributes (a subset of each event's).
func want(t *testing.T, got []map[string]any, events ...map[string]any) {
	t.Helper()
	if len(got) != len(events) {
		t.Fatalf("events %v, want %v", got, events)
	}
	for i, w := range events {
		for k, v := range w {
			if g := got[i][k]; g != v {
				t.Errorf("event %d %v: %s = %v, want %v", i, got[i]["event"], k, g, v)
			}
		}
	}
}

type countingMetrics struct {
	mu     sync.Mutex
	counts map[audit.Event]int
	hashes int
}

func (m *countingMetrics) Count(e audit.Event) {
	m.mu.Lock()
	m.counts[e]++
	m.mu.Unlock()
}
func (m *countingMetrics) ObserveHash(time.Duration)                { m.mu.Lock(); m.hashes++; m.mu.Unlock() }
func (m *countingMetrics) ObserveStore(string, time.Duration, bool) {}

func TestAuditEvents(t *testing.T) {
	log := &eventLog{}
	met := &countingMetrics{counts: map[audit.Event]int{}}
	box := &authtest.Outbox{}
	f := newFixture(t, auth.Config{Logger: log.logger(), Metrics: met, Mailer: box,
		Lockout: auth.Lockout{MaxFailures: 3, MaxFailuresPerClient: 2}})
	cred := func(login, pw string) auth.Credentials {
		return auth.Credentials{Login: login, Password: pw, Client: netip.MustParsePrefix("192.0.2.7/32")}
	}
	var secrets []string

	s, err := f.a.Login(ctx, cred("john_doe", rightPassword), "p1")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, s.Token)
	want(t, log.take(t),
		map[string]any{"event": "login.succeeded", "subject": "341", "client": "192.0.2.7/32", "level": "INFO"},
		map[string]any{"event": "token.issued", "kind": "session", "subject": "341", "project": "p1"})

	_, _ = f.a.Login(ctx, cred("john_doe", "wrong"), "p1")
	_, _ = f.a.Login(ctx, cred("nobody", "wrong"), "p1")
	_, _ = f.a.Login(ctx, cred("inactive_user", rightPassword), "p1")
	want(t, log.take(t),
		map[string]any{"event": "login.failed", "subject": "341", "reason": "invalid_credentials"},
		map[string]any{"event": "login.failed", "reason": "invalid_credentials", "subject": nil},
		map[string]any{"event": "login.failed", "subject": "342", "reason": "inactive"})

	_, _ = f.a.Login(ctx, cred("john_doe", "wrong"), "p1") // the second failure locks
	_, _ = f.a.Login(ctx, cred("john_doe", rightPassword), "p1")
	got := log.take(t)
	want(t, got,
		map[string]any{"event": "login.failed", "subject": "341"},
		map[string]any{"event": "login.locked", "subject": "341", "level": "WARN"})

	// Through its other name the client is held on the account: a
	// warning for the operator, a plain failure for the client.
	_, _ = f.a.Login(ctx, cred("john_doe@domain.com", rightPassword), "p1")
	want(t, log.take(t),
		map[string]any{"event": "login.held", "subject": "341", "client": "192.0.2.7/32", "level": "WARN"},
		map[string]any{"event": "login.failed", "subject": "341", "reason": "invalid_credentials"})

	link, err := f.a.IssueLoginLink(ctx, "341", "p2")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, link.Token)
	if _, err := f.a.RedeemLoginLink(ctx, link.Token); err != nil {
		t.Fatal(err)
	}
	_, _ = f.a.RedeemLoginLink(ctx, link.Token)
	want(t, log.take(t),
		map[string]any{"event": "token.issued", "kind": "login", "subject": "341", "project": "p2"},
		map[string]any{"event": "token.redeemed", "kind": "login", "subject": "341", "project": "p2"},
		map[string]any{"event": "token.rejected", "kind": "login", "reason": "invalid_token"})

	f.clock.Advance(time.Hour) // past the lock
	dev, err := f.a.LoginDevice(ctx, cred("john_doe", rightPassword), "p1", "phone")
	if err != nil {
		t.Fatal(err)
	}
	next, err := f.a.ReAuthenticate(ctx, "phone", dev.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.a.ReAuthenticate(ctx, "phone", dev.DeviceToken) // replay
	secrets = append(secrets, dev.DeviceToken, next.DeviceToken, dev.Token, next.Token)
	want(t, log.take(t),
		map[string]any{"event": "login.succeeded", "subject": "341"},
		map[string]any{"event": "token.issued", "kind": "device", "subject": "341", "device": "phone"},
		map[string]any{"event": "token.rotated", "kind": "device", "subject": "341", "device": "phone"},
		map[string]any{"event": "token.reused", "subject": "341", "device": "phone", "level": "WARN"})

	if _, err := f.a.LogoutEverywhere(ctx, "341"); err != nil {
		t.Fatal(err)
	}
	want(t, log.take(t), map[string]any{"event": "session.revoked", "subject": "341"})

	f.store.SetDown(true)
	_, _ = f.a.Login(ctx, cred("john_doe", rightPassword), "p1")
	f.store.SetDown(false)
	want(t, log.take(t), map[string]any{"event": "store.unavailable", "op": "login", "level": "WARN"})

	if err := f.a.SendEmailConfirmation(ctx, "343", "u@domain.com"); err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, box.Last(t).Token)
	if _, err := f.a.ConfirmEmail(ctx, box.Last(t).Token); err != nil {
		t.Fatal(err)
	}
	want(t, log.take(t),
		map[string]any{"event": "token.issued", "kind": "verification", "subject": "343"},
		map[string]any{"event": "token.redeemed", "kind": "verification", "subject": "343"})

	// Nothing secret was ever logged, nor counted wrong.
	all := log.text()
	if !strings.Contains(all, "login.succeeded") {
		t.Fatal("the whole log is missing")
	}
	for _, s := range append(secrets, rightPassword, "wrong") {
		if strings.Contains(all, s) {
			t.Errorf("a log line holds %q", s)
		}
	}
	if met.counts[audit.LoginFailed] != 5 || met.counts[audit.LoginHeld] != 1 || met.counts[audit.LoginLocked] != 1 || met.counts[audit.TokenReused] != 1 {
		t.Errorf("metrics counts %v", met.counts)
	}
	if met.hashes == 0 {
		t.Error("no hash timings")
	}
}

// TestUnreadableHashIsAnEvent: an account whose stored hash the Hasher
// cannot read (a format it does not know, a damaged row) fails its logins
// like a wrong password, and the operator hears of it; an SSO-only
// account (no hash at all) is no event.
func TestUnreadableHashIsAnEvent(t *testing.T) {
	log := &eventLog{}
	f := newFixture(t, auth.Config{Logger: log.logger()})
	f.users.byLogin["damaged"] = &auth.User{Subject: "351", PasswordHash: []byte("$2a$10$cut short"), Active: true, EmailConfirmed: true}
	f.users.byLogin["sso_only"] = &auth.User{Subject: "350", Active: true, EmailConfirmed: true}
	cred := func(login string) auth.Credentials {
		return auth.Credentials{Login: login, Password: rightPassword, Client: netip.MustParsePrefix("192.0.2.7/32")}
	}
	_, _ = f.a.Login(ctx, cred("damaged"), "")
	want(t, log.take(t),
		map[string]any{"event": "password.unreadable", "subject": "351", "level": "WARN"},
		map[string]any{"event": "login.failed", "subject": "351", "reason": "invalid_credentials"})
	_, _ = f.a.Login(ctx, cred("sso_only"), "")
	want(t, log.take(t),
		map[string]any{"event": "login.failed", "subject": "350", "reason": "invalid_credentials"})
}
