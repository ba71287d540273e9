package mfa_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/mfa"
)

// TestAuditEvents: each check and each change of factors is one event
// with the subject, the factor and (for a refusal) the error code as
// reason; replays and locks are warnings; no code or secret is logged.
func TestAuditEvents(t *testing.T) {
	var buf bytes.Buffer
	clock := fakeclock.New(start)
	e := newEnv(t, teststores.All()[0].Open(t, clock.Now), clock, func(c *mfa.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo,
			// No time: its digits could hold a 6-digit code by chance.
			ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			}}))
		c.MaxAttempts = 3
	})
	ctx := t.Context()
	k := e.enrol(t, "s:1") // mfa.passed, mfa.enrolled
	code := k.Code(clock.Now())
	ok(t, "Verify", e.m.Verify(ctx, "s:1", code))                                         // mfa.passed
	is(t, "replay", e.m.Verify(ctx, "s:1", code), mfa.ErrCodeReused)                      // mfa.replayed
	is(t, "malformed", e.m.Verify(ctx, "s:1", "12345"), mfa.ErrMalformedCode)             // mfa.failed malformed_code
	is(t, "wrong", e.m.Verify(ctx, "s:1", wrongCode(k, clock.Now())), mfa.ErrInvalidCode) // mfa.failed invalid_code
	codes, err := e.m.RecoveryCodes(ctx, "s:1")                                           // mfa.enrolled recovery
	ok(t, "RecoveryCodes", err)
	is(t, "wrong recovery code", e.m.UseRecoveryCode(ctx, "s:1", "AAAA-AAAA-AAAA-AAAA"), mfa.ErrInvalidCode)
	is(t, "locked", e.m.UseRecoveryCode(ctx, "s:1", codes[0]), mfa.ErrLocked) // mfa.locked
	clock.Advance(15 * time.Minute)
	ok(t, "UseRecoveryCode", e.m.UseRecoveryCode(ctx, "s:1", codes[1])) // mfa.passed recovery
	ok(t, "Remove", e.m.Remove(ctx, "s:1"))                             // mfa.removed all

	type line struct{ Event, Level, Subject, Factor, Reason string }
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		s := func(k string) string { v, _ := m[k].(string); return v }
		got = append(got, line{s("event"), s("level"), s("subject"), s("factor"), s("reason")})
	}
	want := []line{
		{"mfa.passed", "INFO", "s:1", "totp", ""},
		{"mfa.enrolled", "INFO", "s:1", "totp", ""},
		{"mfa.passed", "INFO", "s:1", "totp", ""},
		{"mfa.replayed", "WARN", "s:1", "totp", ""},
		{"mfa.failed", "INFO", "s:1", "totp", "malformed_code"},
		{"mfa.failed", "INFO", "s:1", "totp", "invalid_code"},
		{"mfa.enrolled", "INFO", "s:1", "recovery", ""},
		{"mfa.failed", "INFO", "s:1", "recovery", "invalid_code"},
		{"mfa.locked", "WARN", "s:1", "recovery", ""},
		{"mfa.passed", "INFO", "s:1", "recovery", ""},
		{"mfa.removed", "INFO", "s:1", "all", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("event %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, secret := range append([]string{code, k.URI()[len("otpauth://totp/"):]}, codes...) {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("the log holds %q", secret)
		}
	}
}
