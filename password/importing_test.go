package password_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/password"
)

// phc writes a PHC string from a known answer given as hex, so that the
// vector stays as its source prints it.
func phc(id, params, salt, hexKey string) string {
	key, err := hex.DecodeString(hexKey)
	if err != nil {
		panic(err)
	}
	return "$" + id + "$" + params + "$" + base64.RawStdEncoding.EncodeToString([]byte(salt)) + "$" + base64.RawStdEncoding.EncodeToString(key)
}

// importVector is a known answer: a hash another system wrote for a
// password, and where it comes from.
type importVector struct {
	scheme, password, hash, source string
}

// importVectors are known answers for every format Importing reads, each
// from a spec, a reference implementation or the documentation of the
// system that writes it (not from this package).
var importVectors = []importVector{
	{"bcrypt", "allmine", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga",
		"golang.org/x/crypto/bcrypt, bcrypt_test.go TestBcryptingIsCorrect"},
	{"bcrypt", "correctbatteryhorsestapler", "$2b$04$EGdrhbKUv8Oc9vGiXX0HQOxSg445d458Muh7DAHskb6QbtCvdxcie",
		"the Rust bcrypt crate (Keats/rust-bcrypt), test can_verify_hash_generated_from_python: Python's bcrypt wrote it"},
	{"bcrypt", "rasmuslerdorf", "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a",
		"the PHP manual, password_verify example"},
	{"argon2id", "password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"P-H-C/phc-winner-argon2 src/test.c (reference implementation)"},
	{"argon2id", "password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
		"P-H-C/phc-winner-argon2 src/test.c"},
	{"argon2i", "password", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA",
		"P-H-C/phc-winner-argon2 src/test.c"},
	{"argon2i", "password", "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E",
		"P-H-C/phc-winner-argon2 src/test.c"},
	{"argon2id", "password", "argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4",
		"src/test.c's m=256 vector in Django's envelope (Argon2PasswordHasher writes \"argon2\" + argon2-cffi's string)"},
	{"scrypt", "password", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
		"passlib documentation, passlib.hash.scrypt"},
	{"scrypt", "password", "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ",
		"passlib documentation, passlib.hash.scrypt (rounds=8)"},
	{"scrypt", "pleaseletmein", phc("scrypt", "ln=14,r=8,p=1", "SodiumChloride",
		"7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887"),
		"RFC 7914 section 12, third vector (N=16384, r=8, p=1), in passlib's format"},
	{"pbkdf2-sha256", "toomanysecrets", "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk",
		"passlib documentation, front page (passlib.hash.pbkdf2_sha256)"},
	{"pbkdf2-sha512", "insecure_secret", "$pbkdf2-sha512$310000$c8p78n7pUMln0jzvd4aK4Q$JNRBzwAo0ek5qKn50cFzzvE9RXV88h1wJn5KGiHrD0YKtZaR/nCb2CJPOsKaPK0hjf.9yHxzQGZziziccp6Yng",
		"Authelia's documentation (client secret digests, written with go-crypt)"},
	{"pbkdf2-sha256", "Password", phc("pbkdf2-sha256", "i=80000,l=64", "NaCl",
		"4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"),
		"RFC 7914 section 11, second PBKDF2-HMAC-SHA256 vector, in RustCrypto's PHC form"},
	{"pbkdf2_sha256", "lètmein", "pbkdf2_sha256$12000$seasalt$Ybw8zsFxqja97tY/o6G+Fy1ksY4U/Hw3DRrGED6Up4s=",
		"Django 1.6 tests/auth_tests/test_hashers.py test_pbkdf2"},
	{"pbkdf2_sha256", "lètmein", "pbkdf2_sha256$180000$seasalt$gH56uAM9k5UGHuCzAYqLtJQ7AFgnXEZ4LMzt71ldHoc=",
		"Django 3.0 tests/auth_tests/test_hashers.py test_pbkdf2"},
	{"pbkdf2_sha1", "not a password", "pbkdf2_sha1$10000$wz5B6WkasRoF$atJmJ1o+XfJxKq1+Nu1f1i57Z5I=",
		"passlib's tests, django_pbkdf2_sha1 known_correct_hashes"},
}

func TestImportingKnownAnswers(t *testing.T) {
	h := password.Importing{Primary: password.Bcrypt{Cost: 10}}
	for _, v := range importVectors {
		t.Run(v.scheme+" "+v.source, func(t *testing.T) {
			t.Parallel()
			scheme, err := h.Identify([]byte(v.hash))
			if err != nil || scheme != v.scheme {
				t.Fatalf("Identify = %q, %v; want %q", scheme, err, v.scheme)
			}
			if !h.CanRead([]byte(v.hash)) {
				t.Fatal("CanRead = false")
			}
			if err := h.Compare([]byte(v.hash), []byte(v.password)); err != nil {
				t.Fatalf("Compare(right password) = %v", err)
			}
			// One wrong password (the fuzz targets try more, on cheap hashes):
			// under -race a check here takes seconds.
			if err := h.Compare([]byte(v.hash), []byte(v.password[:len(v.password)-1])); err == nil {
				t.Fatal("Compare(the password less its last byte) = nil")
			}
			// bcrypt at cost 10 is the primary's own ($2y$ and $2b$ compute
			// what $2a$ does); every other hash needs a rehash.
			if own := v.scheme == "bcrypt" && v.hash[3:7] == "$10$"; h.NeedsRehash([]byte(v.hash)) == own {
				t.Fatalf("NeedsRehash = %v", !own)
			}
		})
	}
}

// TestImportingRehashesToPrimary: new hashes are Primary's, and only
// Primary's at its own settings need no rehash.
func TestImportingRehashesToPrimary(t *testing.T) {
	for _, primary := range []password.ReadingHasher{password.Bcrypt{Cost: 10}, password.Argon2id{}} {
		h := password.Importing{Primary: primary}
		hash, err := h.Hash([]byte("s3cret"))
		if err != nil {
			t.Fatal(err)
		}
		if !primary.CanRead(hash) || h.NeedsRehash(hash) || h.Compare(hash, []byte("s3cret")) != nil {
			t.Fatalf("%T: its own hash %s is not read as the primary's", primary, hash)
		}
	}
	// The $2a$ cost 10 vector is the bcrypt primary's own.
	if (password.Importing{Primary: password.Bcrypt{Cost: 10}}).NeedsRehash([]byte(importVectors[0].hash)) {
		t.Fatal("a bcrypt hash at the primary's cost needs a rehash")
	}
	if !(password.Importing{Primary: password.Bcrypt{Cost: 11}}).NeedsRehash([]byte(importVectors[0].hash)) {
		t.Fatal("a bcrypt hash at another cost needs no rehash")
	}
}

// TestImportingRefusesWhatItCannotRead: unknown schemes, malformed hashes
// and hashes over the limits are never read, and say why.
func TestImportingRefusesWhatItCannotRead(t *testing.T) {
	var h password.Importing
	for _, tc := range []struct {
		name, hash string
		want       error
	}{
		{"empty", "", password.ErrUnknownHash},
		{"md5-crypt", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/", password.ErrUnknownHash},
		{"sha512-crypt", "$6$rounds=5000$saltsalt$abc", password.ErrUnknownHash},
		{"Django's unsalted md5", "md5$$5f4dcc3b5aa765d61d8327deb882cf99", password.ErrUnknownHash},
		{"plain text", "hunter2", password.ErrUnknownHash},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", password.ErrUnknownHash},
		{"bcrypt $2x$", "$2x$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", password.ErrUnknownHash},
		{"bcrypt $2z$", "$2z$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", password.ErrUnknownHash},
		{"bcrypt cut short", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFD", password.ErrMalformedHash},
		{"bcrypt too long", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcgaa", password.ErrMalformedHash},
		{"bcrypt hash outside the alphabet", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFD!ga", password.ErrMalformedHash},
		{"bcrypt cost 3", "$2a$03$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", password.ErrMalformedHash},
		{"bcrypt cost 31", "$2a$31$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", password.ErrOverLimits},
		{"bcrypt cost 15", "$2b$15$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", password.ErrOverLimits},
		{"argon2 1 GiB", "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", password.ErrOverLimits},
		{"Django argon2 v=16", "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE4", password.ErrMalformedHash},
		{"scrypt 1 GiB", "$scrypt$ln=20,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrOverLimits},
		{"scrypt p=64", "$scrypt$ln=8,r=8,p=64$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrOverLimits},
		{"scrypt ln=0", "$scrypt$ln=0,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrMalformedHash},
		{"scrypt ln=63", "$scrypt$ln=63,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrMalformedHash},
		{"scrypt r*p too large", "$scrypt$ln=1,r=1073741824,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrMalformedHash},
		// scrypt.Key also allocates p·128·r bytes and runs PBKDF2 over
		// them: this one is 128 KiB of N·r but took 895 MiB and 7.7 s.
		{"scrypt a huge r with a tiny N", "$scrypt$ln=1,r=524288,p=10$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrOverLimits},
		{"scrypt r=64", "$scrypt$ln=10,r=64,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrOverLimits},
		{"pbkdf2 a 64-byte key at the iteration limit", "$pbkdf2-sha256$i=2000000,l=64$TmFDbA$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0q1ah1CWhIlgzVJrbhBtRybMXaicr3ruh0HhHj2Kzl/M8jQ", password.ErrOverLimits},
		{"argon2 16 lanes", "$argon2id$v=19$m=65536,t=2,p=16$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", password.ErrOverLimits},
		{"scrypt no parameters", "$scrypt$$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", password.ErrMalformedHash},
		{"pbkdf2 a billion iterations", "$pbkdf2-sha256$1000000000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk", password.ErrOverLimits},
		{"pbkdf2 0 iterations", "$pbkdf2-sha256$0$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk", password.ErrMalformedHash},
		{"pbkdf2 '+' in passlib's alphabet", "$pbkdf2-sha256$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A+WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk", password.ErrMalformedHash},
		{"pbkdf2-sha1", "$pbkdf2$29000$N2YMIWQsBWBMae09x1jrPQ$1t8iyB2A.WF/Z5JZv.lfCIhXXN33N23OSgQYThBYRfk", password.ErrUnknownHash},
		{"pbkdf2 PHC length disagrees", "$pbkdf2-sha256$i=80000,l=32$TmFDbA$TdzY9guYviGDDO5e8icB+WQaRBjQTAQUrv8Ih2s0q1ah1CWhIlgzVJrbhBtRybMXaicr3ruh0HhHj2Kzl/M8jQ", password.ErrMalformedHash},
		{"Django a billion iterations", "pbkdf2_sha256$1000000000$seasalt$Ybw8zsFxqja97tY/o6G+Fy1ksY4U/Hw3DRrGED6Up4s=", password.ErrOverLimits},
		{"Django unpadded", "pbkdf2_sha256$12000$seasalt$Ybw8zsFxqja97tY/o6G+Fy1ksY4U/Hw3DRrGED6Up4s", password.ErrMalformedHash},
		{"Django no salt", "pbkdf2_sha256$12000$$Ybw8zsFxqja97tY/o6G+Fy1ksY4U/Hw3DRrGED6Up4s=", password.ErrMalformedHash},
		{"Django sha512", "pbkdf2_sha512$12000$seasalt$Ybw8zsFxqja97tY/o6G+Fy1ksY4U/Hw3DRrGED6Up4s=", password.ErrUnknownHash},
		{"Django extra field", "pbkdf2_sha256$12000$sea$salt$Ybw8zsFxqja97tY/o6G+Fy1ksY4U/Hw3DRrGED6Up4s=", password.ErrMalformedHash},
		{"not ASCII", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcgé", password.ErrMalformedHash},
		{"huge", strings.Repeat("$", 100000), password.ErrMalformedHash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if h.CanRead([]byte(tc.hash)) {
				t.Errorf("CanRead = true")
			}
			err := h.Compare([]byte(tc.hash), []byte("password"))
			var he *password.HashError
			if !errors.As(err, &he) || !errors.Is(err, tc.want) {
				t.Fatalf("Compare = %v, want a *HashError wrapping %v", err, tc.want)
			}
			if strings.Contains(err.Error(), tc.hash) && len(tc.hash) > 8 {
				t.Errorf("the error %q quotes the hash", err)
			}
			if _, ierr := h.Identify([]byte(tc.hash)); ierr == nil || ierr.Error() != err.Error() {
				t.Errorf("Identify = %v, Compare = %v", ierr, err)
			}
		})
	}
}

// TestImportingLimitsCanBeRaised: a hash over the default limits is read
// once the app raises them (RFC 7914's second scrypt vector has p=16).
func TestImportingLimitsCanBeRaised(t *testing.T) {
	rfc := phc("scrypt", "ln=10,r=8,p=16", "NaCl",
		"fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640") // RFC 7914 section 12
	var def password.Importing
	if _, err := def.Identify([]byte(rfc)); !errors.Is(err, password.ErrOverLimits) {
		t.Fatalf("p=16 under the default limits: %v", err)
	}
	raised := password.Importing{Limits: password.Limits{MaxPasses: 16}}
	if err := raised.Compare([]byte(rfc), []byte("password")); err != nil {
		t.Fatalf("p=16 with MaxPasses 16: %v", err)
	}
	// (Argon2id's own settings would raise MaxMemoryKiB: bcrypt is primary.)
	low := password.Importing{Primary: password.Bcrypt{Cost: 4}, Limits: password.Limits{MaxIterations: 1000, MaxBcryptCost: 9, MaxMemoryKiB: 64}}
	for _, v := range importVectors {
		if !strings.HasPrefix(v.hash, "$2b$04$") && low.CanRead([]byte(v.hash)) {
			t.Errorf("%s is read under low limits", v.hash)
		}
	}
}

// TestImportingBcryptRefusesLongPasswords: bcrypt reads 72 bytes; a longer
// password never matches an imported bcrypt hash, even one whose first 72
// bytes are right.
func TestImportingBcryptRefusesLongPasswords(t *testing.T) {
	pw := strings.Repeat("x", 72)
	hash, err := password.Bcrypt{Cost: 4}.Hash([]byte(pw))
	if err != nil {
		t.Fatal(err)
	}
	var h password.Importing
	if err := h.Compare(hash, []byte(pw)); err != nil {
		t.Fatal(err)
	}
	if err := h.Compare(hash, []byte(pw+"tail")); !errors.Is(err, password.ErrTooLong) {
		t.Fatalf("72 right bytes and a tail: %v", err)
	}
}
