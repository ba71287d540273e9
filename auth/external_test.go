package auth_test

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/store"
)

// TestLoginExternal: an identity proved elsewhere (an OpenID provider)
// logs in without a password: an account with a second factor still
// gets only a pending token, which the second step completes at AAL2;
// one without gets an AAL1 session; an unknown or deactivated account is
// refused. On memory, Redis and Redis Cluster.
func TestLoginExternal(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		client := netip.MustParsePrefix(twoStepClient)
		_, err := e.a.LoginExternal(ctx, "341", "", client)
		var sf *auth.SecondFactorError
		if !errors.As(err, &sf) {
			t.Fatalf("an account with a second factor: %v, want a pending token", err)
		}
		if items, _ := e.tokens.List(ctx, "341", store.Filter{Kind: store.KindSession}); len(items) != 0 {
			t.Fatalf("a session before the second factor: %+v", items)
		}
		s, err := e.a.CompleteLogin(ctx, sf.Pending, auth.FactorTOTP, e.key.Code(e.clock.Now()), client)
		if err != nil {
			t.Fatalf("second step: %v", err)
		}
		if level, _ := e.whoamiLevel(t, s.Token); level != 2 {
			t.Fatalf("AAL %v after the second step", level)
		}
		s, err = e.a.LoginExternal(ctx, "500", "p", client)
		if err != nil || s.Project != "p" {
			t.Fatalf("an account without a second factor: %+v, %v", s, err)
		}
		if level, _ := e.whoamiLevel(t, s.Token); level != 1 {
			t.Fatalf("AAL %v, want 1", level)
		}
		if _, err := e.a.LoginExternal(ctx, "999", "", client); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("an unknown account: %v", err)
		}
	})
}

// TestLoginExternalRemembered: a remembered provider login starts a
// browser's device chain (RestoreRemembered brings it back); with a second
// factor the pending token is the chain's, and its second step starts it.
func TestLoginExternalRemembered(t *testing.T) {
	onAllStores(t, func(t *testing.T, e *twoStep) {
		client := netip.MustParsePrefix(twoStepClient)
		ds, err := e.a.LoginExternalRemembered(ctx, "500", "", client)
		if err != nil || !strings.HasPrefix(ds.Device, "browser-") || ds.DeviceToken == "" {
			t.Fatalf("remembered: %+v, %v", ds, err)
		}
		back, err := e.a.RestoreRemembered(ctx, client, ds.Device, ds.DeviceToken, "")
		if err != nil || back.Token == "" {
			t.Fatalf("restore: %+v, %v", back, err)
		}
		_, err = e.a.LoginExternalRemembered(ctx, "341", "", client)
		var sf *auth.SecondFactorError
		if !errors.As(err, &sf) {
			t.Fatalf("an account with a second factor: %v", err)
		}
		dev, err := e.a.CompleteLoginDevice(ctx, sf.Pending, auth.FactorTOTP, e.key.Code(e.clock.Now()), client)
		if err != nil || !strings.HasPrefix(dev.Device, "browser-") {
			t.Fatalf("second step of a remembered provider login: %+v, %v", dev, err)
		}
	})
}
