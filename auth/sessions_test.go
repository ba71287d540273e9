package auth_test

import (
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestRevokeSessionIsScopedAndEndsTheChain: a session id names a session
// of one subject only; revoking a session that came from a device chain
// ends the chain, as Logout does, so the device cannot come back without
// the password.
func TestRevokeSessionIsScopedAndEndsTheChain(t *testing.T) {
	f := newFixture(t, auth.Config{})
	ds, err := f.a.LoginDevice(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword}, "p", "phone")
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.a.Sessions(ctx, "341", "")
	if err != nil || len(list) != 1 || list[0].Device != "phone" || list[0].Current {
		t.Fatalf("Sessions = %+v, %v", list, err)
	}
	id := list[0].ID
	if ended, err := f.a.RevokeSession(ctx, "342", id); ended || err != nil {
		t.Fatalf("another subject revoking john's session: %v, %v; want false, nil", ended, err)
	}
	if _, err := f.tokens.Validate(ctx, store.KindSession, ds.Token); err != nil {
		t.Fatalf("john's session after another subject's try: %v", err)
	}
	if ended, err := f.a.RevokeSession(ctx, "341", id); !ended || err != nil {
		t.Fatalf("RevokeSession = %v, %v", ended, err)
	}
	if _, err := f.tokens.Validate(ctx, store.KindDevice, ds.DeviceToken); err != tokens.ErrInvalid {
		t.Fatalf("the device token after its session was revoked: %v, want ErrInvalid", err)
	}
	if _, err := f.a.ReAuthenticate(ctx, "phone", ds.DeviceToken); err == nil {
		t.Fatal("the device re-authenticated after its session was revoked")
	}
}

// TestSessionsLastSeen: a session's last activity, as a guard with an idle
// timeout touches it, is in the list; IssuedAt until the first touch.
func TestSessionsLastSeen(t *testing.T) {
	f := newFixture(t, auth.Config{})
	s, err := f.login("john_doe", rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.a.Sessions(ctx, "341", "")
	if err != nil || len(list) != 1 || !list[0].LastSeen.Equal(list[0].IssuedAt) {
		t.Fatalf("Sessions before any touch = %+v, %v; want LastSeen = IssuedAt", list, err)
	}
	f.clock.Advance(5 * time.Minute)
	idle := tokens.Idle{Timeout: 30 * time.Minute, TouchInterval: time.Minute}
	if _, _, err := f.tokens.ValidateIdle(ctx, store.KindSession, s.Token, idle); err != nil {
		t.Fatal(err)
	}
	list, err = f.a.Sessions(ctx, "341", "")
	if err != nil || len(list) != 1 || !list[0].LastSeen.Equal(f.clock.Now()) {
		t.Fatalf("Sessions after a touch = %+v, %v; want LastSeen now", list, err)
	}
}
