package tokens_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// FuzzFromAuthorization: any Authorization header yields either no token
// or exactly the trimmed rest of a "Bearer " header (scheme in any case).
func FuzzFromAuthorization(f *testing.F) {
	for _, s := range []string{
		"Bearer ghs_abcd_" + strings.Repeat("A", 43), "bearer x", "BEARER  x ", "Bearer", "Bearer ", "Bearer\t x",
		"Basic dXNlcjpwYXNz", "", "Bearerx", "Bearer \x00", "Bèarer x", "Bearer a b c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := tokens.FromAuthorization(header)
		if got == "" {
			return
		}
		if len(header) <= 7 || !strings.EqualFold(header[:7], "Bearer ") {
			t.Fatalf("FromAuthorization(%q) = %q from a header that is not Bearer", header, got)
		}
		if got != strings.TrimSpace(header[7:]) {
			t.Fatalf("FromAuthorization(%q) = %q, want %q", header, got, strings.TrimSpace(header[7:]))
		}
	})
}

// FuzzValidate: any token string, presented as any kind, is refused with
// one of the token errors (401 material), never accepted and never another
// error, unless it is the token the test itself issued for that kind.
// "$TOKEN" in the input stands for that token, so the fuzzer can mutate
// around a real one.
func FuzzValidate(f *testing.F) {
	fx := newFixture(f, tokens.Config{})
	iss, err := fx.m.Issue(ctx, store.KindSession, tokens.Claims{Subject: "u1"})
	if err != nil {
		f.Fatal(err)
	}
	real := iss.Token
	for _, s := range []string{
		"$TOKEN", "$TOKEN ", " $TOKEN", "$TOKENx", "", "ghs_", "ghs_abcd_" + strings.Repeat("A", 43),
		"ghs_abcd_" + strings.Repeat("A", 42) + "=", "ghd_abcd_" + strings.Repeat("A", 43),
		"ghs_ABCD_" + strings.Repeat("A", 43), "ghs_abcd-" + strings.Repeat("A", 43), strings.Repeat("\xff", tokens.Len),
	} {
		for k := store.KindSession; k.Valid(); k++ {
			f.Add(s, uint8(k))
		}
	}
	f.Fuzz(func(t *testing.T, s string, kind uint8) {
		s = strings.ReplaceAll(s, "$TOKEN", real)
		k := store.Kind(kind%uint8(store.KindTrust) + 1)
		rec, err := fx.m.Validate(ctx, k, s)
		if err == nil {
			if s != real || k != store.KindSession || rec.Subject != "u1" {
				t.Fatalf("Validate(%v, %q) accepted: %+v", k, s, rec)
			}
			return
		}
		for _, want := range []error{tokens.ErrMissing, tokens.ErrMalformed, tokens.ErrWrongKind, tokens.ErrInvalid} {
			if errors.Is(err, want) {
				return
			}
		}
		t.Fatalf("Validate(%v, %q): unexpected error %v", k, s, err)
	})
}
