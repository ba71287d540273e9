package auth_test

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

const day = 24 * time.Hour

func (f *fixture) loginDevice(t *testing.T, device string) auth.DeviceSession {
	t.Helper()
	ds, err := f.a.LoginDevice(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword, Client: netip.MustParsePrefix("192.0.2.1/32")}, "", device)
	if err != nil {
		t.Fatalf("LoginDevice(%q): %v", device, err)
	}
	return ds
}

// live reports whether a token of the kind is live.
func (f *fixture) live(t *testing.T, kind store.Kind, token string) bool {
	t.Helper()
	_, err := f.tokens.Validate(ctx, kind, token)
	if err != nil && !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("Validate: %v", err)
	}
	return err == nil
}

// chains counts the live device tokens of john_doe on the device.
func (f *fixture) chains(t *testing.T, device string) int {
	t.Helper()
	items, err := f.tokens.List(ctx, "341", store.Filter{Kind: store.KindDevice, Device: device})
	if err != nil {
		t.Fatal(err)
	}
	return len(items)
}

func TestLoginDeviceIssuesBothTokens(t *testing.T) {
	f := newFixture(t, auth.Config{})
	start := f.clock.Now()
	ds := f.loginDevice(t, "phone")
	if ds.User.Subject != "341" || ds.Device != "phone" || ds.Token == "" || ds.DeviceToken == "" {
		t.Fatalf("LoginDevice = %+v", ds)
	}
	if tokens.KindOf(ds.Token) != store.KindSession || tokens.KindOf(ds.DeviceToken) != store.KindDevice {
		t.Fatalf("token kinds: %v, %v", tokens.KindOf(ds.Token), tokens.KindOf(ds.DeviceToken))
	}
	if !ds.DeviceExpiresAt.Equal(start.Add(30*day)) || !ds.ChainEnd.Equal(start.Add(90*day)) {
		t.Errorf("device token expires %v, chain ends %v; want +30d, +90d", ds.DeviceExpiresAt, ds.ChainEnd)
	}
	sess, err := f.tokens.Validate(ctx, store.KindSession, ds.Token)
	if err != nil || sess.Device != "phone" || sess.Family == "" {
		t.Fatalf("session record %+v, %v: want device phone in a family", sess, err)
	}
	dev, _ := f.tokens.Validate(ctx, store.KindDevice, ds.DeviceToken)
	if dev.Family != sess.Family {
		t.Errorf("session family %q, device family %q", sess.Family, dev.Family)
	}
}

func TestBadDeviceNamesCostNoHash(t *testing.T) {
	f := newFixture(t, auth.Config{})
	for name, device := range map[string]string{
		"empty":    "",
		"too long": strings.Repeat("d", auth.MaxDeviceNameBytes+1),
		"control":  "phone\n",
		"not utf8": "\xff",
	} {
		_, err := f.a.LoginDevice(ctx, auth.Credentials{Login: "john_doe", Password: rightPassword}, "", device)
		var fe *auth.FieldError
		if !errors.As(err, &fe) || fe.Field != "device" || problem.Of(err).Status != 400 {
			t.Errorf("%s: %v, want a 400 FieldError for device", name, err)
		}
		if _, err := f.a.ReAuthenticate(ctx, device, "x"); !errors.As(err, &fe) {
			t.Errorf("%s: ReAuthenticate: %v, want a FieldError", name, err)
		}
	}
	if n := f.hasher.Compares.Load(); n != 0 {
		t.Errorf("%d password checks for bad device names, want 0", n)
	}
}

func TestReAuthenticateRotates(t *testing.T) {
	f := newFixture(t, auth.Config{})
	first := f.loginDevice(t, "phone")
	f.clock.Advance(10 * day)
	next, err := f.a.ReAuthenticate(ctx, "phone", first.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	if next.DeviceToken == first.DeviceToken || next.Token == first.Token || next.User.Subject != "341" {
		t.Fatalf("ReAuthenticate = %+v: want new tokens for 341", next)
	}
	if want := f.clock.Now().Add(30 * day); !next.DeviceExpiresAt.Equal(want) {
		t.Errorf("successor expires %v, want %v (30 days from the rotation)", next.DeviceExpiresAt, want)
	}
	if !next.ChainEnd.Equal(first.ChainEnd) {
		t.Errorf("chain end moved from %v to %v", first.ChainEnd, next.ChainEnd)
	}
	if f.live(t, store.KindDevice, first.DeviceToken) || !f.live(t, store.KindDevice, next.DeviceToken) {
		t.Error("the redeemed token is live or its successor is not")
	}
	if !f.live(t, store.KindSession, next.Token) {
		t.Error("the new session is not live")
	}
}

func TestReplayRevokesTheChainOnly(t *testing.T) {
	f := newFixture(t, auth.Config{})
	phone := f.loginDevice(t, "phone")
	laptop := f.loginDevice(t, "laptop")
	plain, _ := f.login("john_doe", rightPassword)
	next, err := f.a.ReAuthenticate(ctx, "phone", phone.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.a.ReAuthenticate(ctx, "phone", phone.DeviceToken)
	var reused *auth.ReusedError
	if !errors.Is(err, tokens.ErrReused) || !errors.As(err, &reused) || reused.Subject != "341" || reused.Device != "phone" {
		t.Fatalf("replay: %v, want a ReusedError for 341's phone", err)
	}
	if p := problem.Of(err); p.Status != 401 || p.Code != "token_reused" {
		t.Errorf("replay answers %d %s, want 401 token_reused", p.Status, p.Code)
	}
	for what, tok := range map[string]struct {
		kind  store.Kind
		token string
	}{
		"successor":             {store.KindDevice, next.DeviceToken},
		"successor's session":   {store.KindSession, next.Token},
		"password login's sess": {store.KindSession, phone.Token},
	} {
		if f.live(t, tok.kind, tok.token) {
			t.Errorf("%s survived the replay", what)
		}
	}
	if !f.live(t, store.KindDevice, laptop.DeviceToken) || !f.live(t, store.KindSession, laptop.Token) || !f.live(t, store.KindSession, plain.Token) {
		t.Error("the replay ended another device or a plain session")
	}
	// The successor is dead: presenting it is invalid, not another reuse.
	if _, err := f.a.ReAuthenticate(ctx, "phone", next.DeviceToken); !errors.Is(err, tokens.ErrInvalid) {
		t.Errorf("successor after the replay: %v, want ErrInvalid", err)
	}
}

func TestWrongDeviceLeavesTheTokenUnspent(t *testing.T) {
	f := newFixture(t, auth.Config{})
	phone := f.loginDevice(t, "phone")
	_, err := f.a.ReAuthenticate(ctx, "laptop", phone.DeviceToken)
	if !errors.Is(err, auth.ErrWrongDevice) || problem.Of(err).Code != "invalid_token" {
		t.Fatalf("wrong device: %v, want ErrWrongDevice (invalid_token)", err)
	}
	if _, err := f.a.ReAuthenticate(ctx, "phone", phone.DeviceToken); err != nil {
		t.Fatalf("the right device after a wrong one: %v", err)
	}
}

func TestDeviceTokenExpiresAfter30Days(t *testing.T) {
	f := newFixture(t, auth.Config{})
	ds := f.loginDevice(t, "phone")
	f.clock.Advance(30 * day)
	if _, err := f.a.ReAuthenticate(ctx, "phone", ds.DeviceToken); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("after 30 days unused: %v, want ErrInvalid", err)
	}
}

func TestChainEndsNinetyDaysAfterThePassword(t *testing.T) {
	f := newFixture(t, auth.Config{})
	ds := f.loginDevice(t, "phone")
	end := ds.ChainEnd
	tok := ds.DeviceToken
	for _, d := range []int{29, 58, 87} {
		f.clock.Advance(29 * day)
		next, err := f.a.ReAuthenticate(ctx, "phone", tok)
		if err != nil {
			t.Fatalf("day %d: %v", d, err)
		}
		if next.DeviceExpiresAt.After(end) {
			t.Fatalf("day %d: successor expires %v, past the chain's end %v", d, next.DeviceExpiresAt, end)
		}
		tok = next.DeviceToken
	}
	f.clock.Advance(3 * day) // day 90
	if _, err := f.a.ReAuthenticate(ctx, "phone", tok); !errors.Is(err, tokens.ErrInvalid) {
		t.Fatalf("at the chain's end: %v, want ErrInvalid", err)
	}
	// A password login starts a new chain.
	again := f.loginDevice(t, "phone")
	if !again.ChainEnd.Equal(f.clock.Now().Add(90 * day)) {
		t.Errorf("new chain ends %v", again.ChainEnd)
	}
}

func TestPasswordLoginReplacesTheDeviceChain(t *testing.T) {
	f := newFixture(t, auth.Config{})
	old := f.loginDevice(t, "phone")
	f.clock.Advance(time.Minute)
	fresh := f.loginDevice(t, "phone")
	if _, err := f.a.ReAuthenticate(ctx, "phone", old.DeviceToken); !errors.Is(err, tokens.ErrInvalid) || errors.Is(err, tokens.ErrReused) {
		t.Fatalf("the replaced chain: %v, want ErrInvalid (not reuse)", err)
	}
	if _, err := f.a.ReAuthenticate(ctx, "phone", fresh.DeviceToken); err != nil {
		t.Fatalf("the new chain: %v", err)
	}
	if n := f.chains(t, "phone"); n != 1 {
		t.Fatalf("%d chains on the phone, want 1", n)
	}
}

func TestConcurrentLoginsOnOneDeviceKeepOneChain(t *testing.T) {
	f := newFixture(t, auth.Config{})
	var wg sync.WaitGroup
	// Fewer than the lockout's per-client limit: attempts in flight count.
	for range 4 {
		wg.Go(func() { f.loginDevice(t, "phone") })
	}
	wg.Wait()
	if n := f.chains(t, "phone"); n != 1 {
		t.Fatalf("%d chains on the phone after concurrent logins, want 1", n)
	}
}

func TestConcurrentRedemptionsOneWins(t *testing.T) {
	f := newFixture(t, auth.Config{})
	ds := f.loginDevice(t, "phone")
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		wins   []auth.DeviceSession
		start  = make(chan struct{})
		others = 0
	)
	for range 50 {
		wg.Go(func() {
			<-start
			got, err := f.a.ReAuthenticate(ctx, "phone", ds.DeviceToken)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins = append(wins, got)
			case errors.Is(err, tokens.ErrReused), errors.Is(err, tokens.ErrInvalid):
				others++
			default:
				t.Errorf("unexpected error %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if len(wins) != 1 {
		t.Fatalf("%d redemptions won, want exactly 1", len(wins))
	}
	if n := f.chains(t, "phone"); n > 1 {
		t.Fatalf("%d live device tokens after the race, want at most 1", n)
	}
	// Whatever survived is consistent: the winner's device token and
	// session live or die together.
	if f.live(t, store.KindDevice, wins[0].DeviceToken) != f.live(t, store.KindSession, wins[0].Token) {
		t.Error("the winner's device token and session disagree")
	}
}

func TestDevicesListAndRevokeOne(t *testing.T) {
	f := newFixture(t, auth.Config{})
	start := f.clock.Now()
	phone := f.loginDevice(t, "phone")
	f.clock.Advance(time.Hour)
	laptop := f.loginDevice(t, "laptop")
	f.clock.Advance(time.Hour)
	next, err := f.a.ReAuthenticate(ctx, "phone", phone.DeviceToken)
	if err != nil {
		t.Fatal(err)
	}
	list, err := f.a.Devices(ctx, "341")
	if err != nil || len(list) != 2 {
		t.Fatalf("Devices = %+v, %v; want 2", list, err)
	}
	if p := list[0]; p.Name != "phone" || !p.Created.Equal(start) || !p.LastUsed.Equal(start.Add(2*time.Hour)) {
		t.Errorf("first device %+v: want the phone, created at %v, used 2h later", p, start)
	}
	if l := list[1]; l.Name != "laptop" || !l.Created.Equal(l.LastUsed) {
		t.Errorf("second device %+v: want the unused laptop", l)
	}
	n, err := f.a.RevokeDevice(ctx, "341", "phone")
	if err != nil || n != 3 { // the device token and two sessions
		t.Fatalf("RevokeDevice = %d, %v; want 3", n, err)
	}
	if f.live(t, store.KindDevice, next.DeviceToken) || f.live(t, store.KindSession, next.Token) || f.live(t, store.KindSession, phone.Token) {
		t.Error("the revoked phone still holds a token")
	}
	if !f.live(t, store.KindDevice, laptop.DeviceToken) || !f.live(t, store.KindSession, laptop.Token) {
		t.Error("revoking the phone ended the laptop")
	}
	if list, _ := f.a.Devices(ctx, "341"); len(list) != 1 || list[0].Name != "laptop" {
		t.Errorf("Devices after the revocation = %+v", list)
	}
}

func TestLogoutEverywhereEndsDeviceChains(t *testing.T) {
	f := newFixture(t, auth.Config{})
	phone := f.loginDevice(t, "phone")
	laptop := f.loginDevice(t, "laptop")
	if _, err := f.a.LogoutEverywhere(ctx, "341"); err != nil {
		t.Fatal(err)
	}
	for _, ds := range []auth.DeviceSession{phone, laptop} {
		if _, err := f.a.ReAuthenticate(ctx, ds.Device, ds.DeviceToken); !errors.Is(err, tokens.ErrInvalid) {
			t.Errorf("%s after LogoutEverywhere: %v, want ErrInvalid", ds.Device, err)
		}
	}
	if list, _ := f.a.Devices(ctx, "341"); len(list) != 0 {
		t.Errorf("Devices = %+v, want none", list)
	}
}

func TestReAuthenticateStoreDownLeavesTokenUnspent(t *testing.T) {
	f := newFixture(t, auth.Config{})
	ds := f.loginDevice(t, "phone")
	f.store.SetDown(true)
	if _, err := f.a.ReAuthenticate(ctx, "phone", ds.DeviceToken); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("store down: %v, want ErrUnavailable", err)
	}
	f.store.SetDown(false)
	if _, err := f.a.ReAuthenticate(ctx, "phone", ds.DeviceToken); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}
