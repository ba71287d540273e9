package tokens_test

import (
	"errors"
	"testing"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

func TestSessionInDeviceFamilyEndsOnReuse(t *testing.T) {
	f := newFixture(t, tokens.Config{})
	dev, err := f.m.Issue(ctx, store.KindDevice, tokens.Claims{Subject: "u1", Device: "phone", Family: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if dev.Record.Family == "" || dev.Record.Family == "ignored" {
		t.Fatalf("device token family %q: want a fresh one", dev.Record.Family)
	}
	sess, err := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1", Device: "phone", Family: dev.Record.Family})
	if err != nil || sess.Record.Family != dev.Record.Family {
		t.Fatalf("session = %+v, %v; want family %q", sess.Record, err, dev.Record.Family)
	}
	other, _ := f.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	if _, err := f.m.Rotate(ctx, dev.Token); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Rotate(ctx, dev.Token); !errors.Is(err, tokens.ErrReused) {
		t.Fatalf("replay: %v, want ErrReused", err)
	}
	if _, err := f.m.Validate(ctx, store.KindSession, sess.Token); !errors.Is(err, tokens.ErrInvalid) {
		t.Errorf("session of the reused chain: %v, want ErrInvalid", err)
	}
	if _, err := f.m.Validate(ctx, store.KindSession, other.Token); err != nil {
		t.Errorf("session outside the chain ended: %v", err)
	}
}
