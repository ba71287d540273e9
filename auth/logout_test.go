package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/auth/authtest"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// everyKind issues john_doe (subject 341) one live token of each kind a
// user holds and returns them by kind; the device login's session makes
// a sixth token.
func everyKind(t *testing.T, f *fixture, mail *authtest.Outbox) map[store.Kind]string {
	t.Helper()
	s, err := f.login("john_doe", rightPassword)
	if err != nil {
		t.Fatal(err)
	}
	ds := f.loginDevice(t, "phone")
	link, err := f.a.IssueLoginLink(ctx, "341", "A")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.a.SendEmailConfirmation(ctx, "341", "john_doe@domain.com"); err != nil {
		t.Fatal(err)
	}
	confirm := mail.Last(t).Token
	reset := f.requestReset(t, mail, "john_doe@domain.com")
	return map[store.Kind]string{
		store.KindSession:      s.Token,
		store.KindDevice:       ds.DeviceToken,
		store.KindLogin:        link.Token,
		store.KindVerification: confirm,
		store.KindReset:        reset,
	}
}

// TestLogoutEverywhereEndsEveryKind: "everywhere" leaves the subject no
// way back in. A reset link mailed before a password change must not reset
// the password after it (issue 15, finding 4), nor may a login link or a
// pending verification outlive the call.
func TestLogoutEverywhereEndsEveryKind(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	live := everyKind(t, f, mail)
	// Another subject's tokens stay.
	other, err := f.a.IssueLoginLink(ctx, "343", "A")
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.a.LogoutEverywhere(ctx, "341")
	if err != nil || n != len(live)+1 {
		t.Fatalf("LogoutEverywhere = %d, %v; want %d", n, err, len(live)+1)
	}
	for kind, tok := range live {
		if f.live(t, kind, tok) {
			t.Errorf("a %s token survived LogoutEverywhere", kind)
		}
	}
	if _, err := f.a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: live[store.KindReset], Password: newPassword}); !errors.Is(err, tokens.ErrInvalid) {
		t.Errorf("reset mailed before LogoutEverywhere: %v, want ErrInvalid", err)
	}
	if !f.live(t, store.KindLogin, other.Token) {
		t.Error("LogoutEverywhere ended another subject's login link")
	}
}

// TestLogoutEverywhereKeeps: the kinds the caller names survive, every
// other kind ends.
func TestLogoutEverywhereKeeps(t *testing.T) {
	f, mail := resetFixture(t, auth.Config{})
	live := everyKind(t, f, mail)
	n, err := f.a.LogoutEverywhere(ctx, "341", store.KindVerification, store.KindLogin)
	if err != nil || n != len(live)+1-2 {
		t.Fatalf("LogoutEverywhere(keep verification, login) = %d, %v; want %d", n, err, len(live)+1-2)
	}
	for kind, tok := range live {
		kept := kind == store.KindVerification || kind == store.KindLogin
		if got := f.live(t, kind, tok); got != kept {
			t.Errorf("%s token live = %v, want %v", kind, got, kept)
		}
	}
	if _, err := f.a.LogoutEverywhere(ctx, "341", store.Kind(0)); err == nil {
		t.Error("keeping kind 0 (which a Filter reads as every kind) was accepted")
	}
	if _, err := f.a.LogoutEverywhere(ctx, ""); err == nil {
		t.Error("LogoutEverywhere without a subject was accepted")
	}
}

// logoutWith posts to LogoutHandler(opts) with the token as a bearer.
func logoutWith(t *testing.T, f *fixture, opts auth.HandlerOptions, token string) {
	t.Helper()
	r := httptest.NewRequest("POST", "/logout", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	f.a.LogoutHandler(opts).ServeHTTP(w, r)
	if w.Code != http.StatusNoContent {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
}

// TestLogoutHandlerEndsTheDeviceChain: logging out of a session issued to
// a device ends the device's chain, so the device cannot sign back in
// silently (issue 15, finding 5); the subject's other device and password
// session live on. KeepDeviceOnLogout keeps the chain.
func TestLogoutHandlerEndsTheDeviceChain(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts auth.HandlerOptions
		keep bool
	}{
		{"default", auth.HandlerOptions{}, false},
		{"KeepDeviceOnLogout", auth.HandlerOptions{KeepDeviceOnLogout: true}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, auth.Config{})
			phone := f.loginDevice(t, "phone")
			laptop := f.loginDevice(t, "laptop")
			web, err := f.login("john_doe", rightPassword)
			if err != nil {
				t.Fatal(err)
			}
			// A session from a re-authentication belongs to the chain too.
			again, err := f.a.ReAuthenticate(ctx, "phone", phone.DeviceToken)
			if err != nil {
				t.Fatal(err)
			}
			logoutWith(t, f, tc.opts, again.Token)
			if f.live(t, store.KindSession, again.Token) {
				t.Error("the session survived its logout")
			}
			if got := f.live(t, store.KindSession, phone.Token); got != tc.keep {
				t.Errorf("the chain's first session live = %v, want %v", got, tc.keep)
			}
			_, err = f.a.ReAuthenticate(ctx, "phone", again.DeviceToken)
			switch {
			case tc.keep && err != nil:
				t.Errorf("with KeepDeviceOnLogout the device cannot re-authenticate: %v", err)
			case !tc.keep && !errors.Is(err, tokens.ErrInvalid):
				t.Errorf("the device re-authenticates after logging out: %v, want ErrInvalid", err)
			}
			if !f.live(t, store.KindDevice, laptop.DeviceToken) || !f.live(t, store.KindSession, laptop.Token) || !f.live(t, store.KindSession, web.Token) {
				t.Error("logging out of the phone ended another device or session")
			}
		})
	}
}

// TestLogoutEndsTheDeviceChain: the Go API answers as the handler does;
// LogoutKeepDevice is the named way to end the session only.
func TestLogoutEndsTheDeviceChain(t *testing.T) {
	f := newFixture(t, auth.Config{})
	phone := f.loginDevice(t, "phone")
	laptop := f.loginDevice(t, "laptop")
	if err := f.a.LogoutKeepDevice(ctx, laptop.Token); err != nil {
		t.Fatal(err)
	}
	if f.live(t, store.KindSession, laptop.Token) || !f.live(t, store.KindDevice, laptop.DeviceToken) {
		t.Error("LogoutKeepDevice: want the session ended and the device token live")
	}
	if err := f.a.Logout(ctx, phone.Token); err != nil {
		t.Fatal(err)
	}
	if f.live(t, store.KindSession, phone.Token) || f.live(t, store.KindDevice, phone.DeviceToken) {
		t.Error("Logout of a device session left its session or device token live")
	}
	if err := f.a.Logout(ctx, phone.Token); err != nil {
		t.Errorf("logging out twice: %v, want nil", err)
	}
	if err := f.a.Logout(ctx, "garbage"); !errors.Is(err, tokens.ErrMalformed) {
		t.Errorf("malformed token: %v, want ErrMalformed", err)
	}
}
