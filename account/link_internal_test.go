package account

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// verificationToken issues a real verification token, for seeds.
func verificationToken(tb testing.TB) string {
	tb.Helper()
	mem := memory.New(memory.Options{})
	tb.Cleanup(func() { mem.Close() })
	tm, err := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey})
	if err != nil {
		tb.Fatal(err)
	}
	iss, err := tm.Issue(tb.Context(), store.KindVerification, tokens.Claims{Subject: "u1", Project: binding(bindConfirm, "a@b")})
	if err != nil {
		tb.Fatal(err)
	}
	return iss.Token
}

// FuzzSplitLink: splitLink never panics, and what it accepts is exactly
// "<verification token>.<base64url address>" with an address of 1 to 254
// bytes holding an '@', the whole at most 1 KiB; it gives back the parts
// the link was made of.
func FuzzSplitLink(f *testing.F) {
	tok := verificationToken(f)
	enc := base64.RawURLEncoding.EncodeToString
	for _, seed := range []string{
		tok + "." + enc([]byte("ada@example.com")),
		tok + "." + enc([]byte("@")),
		tok + "." + enc([]byte(strings.Repeat("a", 249)+"@x.io")),
		tok + "." + enc([]byte(strings.Repeat("a", 250)+"@x.io")),
		tok + "." + enc([]byte("no address")),
		tok + "." + enc([]byte("ada@example.com")) + "=",
		tok + ".." + enc([]byte("ada@example.com")),
		tok,
		"." + enc([]byte("ada@example.com")),
		"ghs_" + tok[4:] + "." + enc([]byte("ada@example.com")),
		"",
		".",
		"a.b.c",
		strings.Repeat(".", 2000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		token, email, ok := splitLink(s)
		if !ok {
			if token != "" || email != "" {
				t.Fatalf("%q: refused, but gave %q %q", s, token, email)
			}
			return
		}
		switch {
		case len(s) > 1024:
			t.Fatalf("%q: accepted %d bytes", s, len(s))
		case tokens.KindOf(token) != store.KindVerification:
			t.Fatalf("%q: accepted %q, not a verification token", s, token)
		case email == "" || len(email) > maxEmail || !strings.Contains(email, "@"):
			t.Fatalf("%q: accepted the address %q", s, email)
		}
		if rebuilt := token + "." + enc([]byte(email)); rebuilt != s {
			t.Fatalf("%q: read as %q and %q, which make %q", s, token, email, rebuilt)
		}
	})
}

// TestSplitLinkRoundTrip: every link issueEmailToken makes is read back
// as its token and address, for addresses up to 254 bytes.
func TestSplitLinkRoundTrip(t *testing.T) {
	now := func() time.Time { return testfix.Start }
	mem := memory.New(memory.Options{Now: now})
	t.Cleanup(func() { mem.Close() })
	tm, err := tokens.New(tokens.Config{Store: mem, TagKey: testfix.TagKey, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	a := &Account{cfg: Config{Tokens: tm}}
	for _, email := range []string{"a@b", "Ada.Lovelace+tag@example.com", strings.Repeat("a", 249) + "@x.io", "ünïcode@exämple.org"} {
		link, iss, err := a.issueEmailToken(t.Context(), "u1", bindChange, email)
		if err != nil {
			t.Fatal(err)
		}
		tok, got, ok := splitLink(link)
		if !ok || tok != iss.Token || got != email {
			t.Fatalf("%q: split as %q %q %v", link, tok, got, ok)
		}
		rec, err := tm.Consume(t.Context(), store.KindVerification, tok)
		if err != nil || !bound(rec, bindChange, got) || bound(rec, bindConfirm, got) || bound(rec, bindChange, "x"+got) {
			t.Fatalf("%q: binding: %v", email, err)
		}
	}
}

// TestSplitLinkCanonical: a link's address has one spelling. Base64 with
// other trailing bits ("QB" for "QA", both "@") or with CR and LF in it
// (which Go's decoder skips) is not a link issueEmailToken made, and is
// refused before the store.
func TestSplitLinkCanonical(t *testing.T) {
	tok := verificationToken(t)
	// 14 bytes: the last of its 19 characters carries 2 bits of padding.
	enc := base64.RawURLEncoding.EncodeToString([]byte("ada@example.co"))
	if _, _, ok := splitLink(tok + "." + enc); !ok {
		t.Fatal("the canonical link is refused")
	}
	last := enc[len(enc)-1]
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") {
		if c == last {
			continue
		}
		if _, email, ok := splitLink(tok + "." + enc[:len(enc)-1] + string(c)); ok && email == "ada@example.co" {
			t.Fatalf("%q: another spelling of the address is accepted", enc[:len(enc)-1]+string(c))
		}
	}
	for _, s := range []string{enc[:4] + "\r\n" + enc[4:], enc + "\n", "\r" + enc} {
		if _, _, ok := splitLink(tok + "." + s); ok {
			t.Fatalf("%q: accepted with CR or LF", s)
		}
	}
}
