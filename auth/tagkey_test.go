package auth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestTagMismatchIsAnEvent is finding 1 of issue 15 at the auth layer: a
// token another instance issued under another TagKey is refused with
// tokens.ErrTagMismatch (401 invalid_token) and the warning event
// token.tag_mismatch, not the ordinary token.rejected, so that the
// operator sees the misconfiguration.
func TestTagMismatchIsAnEvent(t *testing.T) {
	log := &eventLog{}
	f := newFixture(t, auth.Config{Logger: log.logger()})
	other, err := tokens.New(tokens.Config{Store: f.store, Now: f.clock.Now,
		TagKey: []byte("another instance's tag key, 32+ bytes")})
	if err != nil {
		t.Fatal(err)
	}
	if other.Tag("341") == f.tokens.Tag("341") {
		t.Fatal("both keys give subject 341 one tag: pick another key")
	}
	link, err := other.Issue(ctx, store.KindLogin, tokens.Claims{Subject: "341", Project: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.a.RedeemLoginLink(ctx, link.Token)
	if !errors.Is(err, tokens.ErrTagMismatch) {
		t.Fatalf("RedeemLoginLink of a foreign token: %v, want tokens.ErrTagMismatch", err)
	}
	if p := problem.Of(err); p.Status != 401 || p.Code != "invalid_token" {
		t.Errorf("answers %d %s, want 401 invalid_token", p.Status, p.Code)
	}
	want(t, log.take(t), map[string]any{"event": "token.tag_mismatch", "kind": "login", "op": "redeem", "level": "WARN"})

	dev, err := other.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "341", Device: "phone"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.a.ReAuthenticate(ctx, "phone", dev.Token); !errors.Is(err, tokens.ErrTagMismatch) {
		t.Fatalf("ReAuthenticate with a foreign device token: %v, want tokens.ErrTagMismatch", err)
	}
	want(t, log.take(t), map[string]any{"event": "token.tag_mismatch", "kind": "device", "device": "phone", "level": "WARN"})
	for _, tok := range []string{link.Token, dev.Token} {
		if strings.Contains(log.text(), tok) {
			t.Errorf("a token reached the log: %s", log.text())
		}
	}
}
