package mfa

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzParseCode: any input is a code of the asked length in digits, or
// ErrMalformedCode; never a panic.
func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "12345678", "", "12a456", "１２３４５６", strings.Repeat("1", 40)} {
		f.Add(s, 6)
		f.Add(s, 8)
	}
	f.Fuzz(func(t *testing.T, s string, digits int) {
		if digits != 6 && digits != 8 {
			digits = 6
		}
		c, err := parseCode(s, digits)
		if err != nil {
			if !errors.Is(err, ErrMalformedCode) || c != "" {
				t.Fatalf("parseCode(%q) = %q, %v", s, c, err)
			}
			return
		}
		if len(c) != digits || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("parseCode(%q) = %q", s, c)
		}
	})
}

// FuzzParseRecoveryCode: any input is 16 characters of the alphabet, or
// ErrMalformedCode; a code's canonical form parses to itself.
func FuzzParseRecoveryCode(f *testing.F) {
	for _, s := range []string{"7KQ2-M9XD-4HRT-B0CE", "7kq2 m9xd 4hrt boce", "", "UUUU-UUUU-UUUU-UUUU", "ÉÉÉÉ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseRecoveryCode(s)
		if err != nil {
			if !errors.Is(err, ErrMalformedCode) {
				t.Fatalf("parseRecoveryCode(%q): %v", s, err)
			}
			return
		}
		if len(c) != recoveryChars || strings.Trim(c, recoveryAlphabet) != "" {
			t.Fatalf("parseRecoveryCode(%q) = %q", s, c)
		}
		if again, err := parseRecoveryCode(c); err != nil || again != c {
			t.Fatalf("canonical %q parses to %q, %v", c, again, err)
		}
	})
}

// FuzzParseKeyURI: any input is a valid key or an error wrapping
// ErrKeyURI, never a panic; a key parsed writes a URI that parses back to
// the same key.
func FuzzParseKeyURI(f *testing.F) {
	f.Add("otpauth://totp/Gatehouse:alice@example.com?algorithm=SHA1&digits=6&issuer=Gatehouse&period=30&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	f.Add("otpauth://totp/a%3Ab:c%2Fd?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=sha512&digits=8&period=60")
	f.Add("otpauth://totp/x?secret=gezdgnbvgy3tqojqgezdgnbvgy3tqojq====")
	f.Add("otpauth://hotp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
	f.Add("otpauth://totp/%zz?secret=")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKeyURI(s)
		if err != nil {
			if !errors.Is(err, ErrKeyURI) {
				t.Fatalf("ParseKeyURI(%q): %v, not wrapping ErrKeyURI", s, err)
			}
			return
		}
		if err := k.check(); err != nil {
			t.Fatalf("ParseKeyURI(%q) gave a key that fails its check: %v", s, err)
		}
		again, err := ParseKeyURI(k.URI())
		if err != nil {
			t.Fatalf("%q parsed, its URI %q does not: %v", s, k.URI(), err)
		}
		if again.Issuer != k.Issuer || again.Account != k.Account || !bytes.Equal(again.Secret, k.Secret) ||
			again.Algorithm != k.Algorithm || again.Digits != k.Digits || again.Period != k.Period {
			t.Fatalf("%q: %+v came back as %+v", s, k, again)
		}
		_ = k.Code(time.Unix(0, 0))
	})
}

// FuzzOpenSealed: Open of any bytes, for any subject, is a plaintext only
// for a blob this ring sealed for that subject; anything else is an error
// wrapping ErrUnsealed, never a panic.
func FuzzOpenSealed(f *testing.F) {
	ring := testRing(f)
	// A fixed nonce, so that every fuzzing process makes the same blob.
	blob, err := ring.seal(bytes.NewReader(make([]byte, nonceSize)), "s:1", []byte(`{"v":1}`))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob, "s:1")
	f.Add(blob[:20], "s:1")
	f.Add([]byte{1, 0}, "")
	f.Add([]byte{1, 255, 'a'}, "s:1")
	f.Add([]byte{2, 1, 'a'}, "s:1")
	f.Fuzz(func(t *testing.T, b []byte, subject string) {
		plain, err := ring.Open(subject, b)
		if err != nil {
			if !errors.Is(err, ErrUnsealed) {
				t.Fatalf("Open: %v, not wrapping ErrUnsealed", err)
			}
			return
		}
		if !bytes.Equal(b, blob) || subject != "s:1" || string(plain) != `{"v":1}` {
			t.Fatalf("Open(%q, %x) = %q: a forgery", subject, b, plain)
		}
	})
}
