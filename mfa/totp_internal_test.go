package mfa

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// TestRFC6238Vectors: every row of RFC 6238 appendix B, for SHA1,
// SHA256 and SHA512, with its 20-, 32- and 64-byte seeds and 8 digits.
func TestRFC6238Vectors(t *testing.T) {
	seeds := map[Algorithm]string{
		SHA1:   "12345678901234567890",
		SHA256: "12345678901234567890123456789012",
		SHA512: "1234567890123456789012345678901234567890123456789012345678901234",
	}
	rows := []struct {
		unix int64
		want map[Algorithm]string
	}{
		{59, map[Algorithm]string{SHA1: "94287082", SHA256: "46119246", SHA512: "90693936"}},
		{1111111109, map[Algorithm]string{SHA1: "07081804", SHA256: "68084774", SHA512: "25091201"}},
		{1111111111, map[Algorithm]string{SHA1: "14050471", SHA256: "67062674", SHA512: "99943326"}},
		{1234567890, map[Algorithm]string{SHA1: "89005924", SHA256: "91819424", SHA512: "93441116"}},
		{2000000000, map[Algorithm]string{SHA1: "69279037", SHA256: "90698825", SHA512: "38618901"}},
		{20000000000, map[Algorithm]string{SHA1: "65353130", SHA256: "77737706", SHA512: "47863826"}},
	}
	for _, r := range rows {
		for alg, want := range r.want {
			k := TOTPKey{Secret: []byte(seeds[alg]), Algorithm: alg, Digits: 8, Period: 30 * time.Second}
			if got := k.Code(time.Unix(r.unix, 0)); got != want {
				t.Errorf("%s at %d: %s, want %s", alg, r.unix, got, want)
			}
		}
	}
}

// TestShortReadIsAnError: a reader that gives fewer bytes than asked
// (pquerna/otp kept what a short read gave it) or fails makes no secret,
// and so no enrolment.
func TestShortReadIsAnError(t *testing.T) {
	short := io.LimitReader(strings.NewReader(strings.Repeat("x", 64)), 10)
	if b, err := newSecret(short, 20); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) || b != nil {
		t.Fatalf("a short read: %x, %v; want an error wrapping io.ErrUnexpectedEOF", b, err)
	}
	if _, err := newSecret(iotest.ErrReader(errors.New("no entropy")), 20); err == nil {
		t.Fatal("a failing reader made a secret")
	}
	// One byte at a time is not short: io.ReadFull reads on.
	if b, err := newSecret(iotest.OneByteReader(strings.NewReader(strings.Repeat("y", 20))), 20); err != nil || len(b) != 20 {
		t.Fatalf("a reader of one byte a call: %x, %v", b, err)
	}
}

func TestParseCode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		digits   int
		want     string
	}{
		{"six", "123456", 6, "123456"},
		{"grouped", "123 456", 6, "123456"},
		{"hyphen", "123-456", 6, "123456"},
		{"eight", "12345678", 8, "12345678"},
		{"leading zeros", "000001", 6, "000001"},
		{"short", "12345", 6, ""},
		{"long", "1234567", 6, ""},
		{"empty", "", 6, ""},
		{"letter", "12345a", 6, ""},
		{"fullwidth digit", "12345６", 6, ""},
		{"sign", "+12345", 6, ""},
		{"NUL", "123\x00456", 6, ""},
		{"only spaces", "      ", 6, ""},
		{"six of eight", "123456", 8, ""},
		{"padded far", strings.Repeat(" ", 40) + "123456", 6, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseCode(tc.in, tc.digits)
			if tc.want == "" {
				if !errors.Is(err, ErrMalformedCode) {
					t.Fatalf("parseCode(%q) = %q, %v; want ErrMalformedCode", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseRecoveryCode(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"display", "7KQ2-M9XD-4HRT-B0CE", "7KQ2M9XD4HRTB0CE"},
		{"lower, spaced", "7kq2 m9xd 4hrt b0ce", "7KQ2M9XD4HRTB0CE"},
		{"misread letters", "7KQ2-M9XD-4HRT-BOCE", "7KQ2M9XD4HRTB0CE"},
		{"I and L", "IL00-0000-0000-0000", "1100000000000000"},
		{"U is not in the alphabet", "UKQ2-M9XD-4HRT-B0CE", ""},
		{"short", "7KQ2-M9XD-4HRT-B0C", ""},
		{"long", "7KQ2-M9XD-4HRT-B0CEE", ""},
		{"punctuation", "7KQ2_M9XD_4HRT_B0CE", ""},
		{"empty", "", ""},
		{"any string", "password", ""},
		{"non-ASCII", "7KQ2-M9XD-4HRT-B0CÉ", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseRecoveryCode(tc.in)
			if tc.want == "" {
				if !errors.Is(err, ErrMalformedCode) {
					t.Fatalf("parseRecoveryCode(%q) = %q, %v; want ErrMalformedCode", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseRecoveryCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestKeyURI: names that hold the URI's own punctuation come back as they
// went in, and change nothing else of the URI.
func TestKeyURI(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tc := range []struct{ name, issuer, account string }{
		{"plain", "Gatehouse", "alice@example.com"},
		{"punctuation", "Acme & Co/Ltd", "a/b?c#d&e:f=g%h+i j"},
		{"unicode", "Zürich", "ålice@exämple.com"},
		{"no issuer", "", "bob:x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := TOTPKey{Issuer: tc.issuer, Account: tc.account, Secret: secret, Algorithm: SHA256, Digits: 8, Period: 60 * time.Second}
			uri := k.URI()
			got, err := ParseKeyURI(uri)
			if err != nil {
				t.Fatalf("ParseKeyURI(%q): %v", uri, err)
			}
			if got.Issuer != tc.issuer || got.Account != tc.account || string(got.Secret) != string(secret) ||
				got.Algorithm != SHA256 || got.Digits != 8 || got.Period != 60*time.Second {
				t.Fatalf("%q came back as %+v", uri, got)
			}
			label, _, _ := strings.Cut(strings.TrimPrefix(uri, "otpauth://totp/"), "?")
			if colons := strings.Count(label, ":"); strings.Count(uri, "?") != 1 || strings.Contains(uri, "#") ||
				strings.Contains(label, "/") || tc.issuer != "" && colons != 1 || tc.issuer == "" && colons != 0 {
				t.Fatalf("URI %q", uri)
			}
		})
	}
	for _, bad := range []string{
		"",
		"otpauth://hotp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=1",
		"https://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQ",                               // 80 bits
		"otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=B",      // issuers differ
		"otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=7",      // digits
		"otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&period=0",      // period
		"otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=MD5", // algorithm
		"otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://totp/A:b?secret=not-base32!",
		"otpauth://totp/?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://totp/A/b:c?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
		"otpauth://totp/A:b?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ#frag",
		"otpauth://totp/A:b?secret=" + strings.Repeat("A", 3000),
	} {
		if k, err := ParseKeyURI(bad); !errors.Is(err, ErrKeyURI) {
			t.Errorf("ParseKeyURI(%q) = %+v, %v; want ErrKeyURI", bad, k, err)
		}
	}
}
