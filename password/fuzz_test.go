package password_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/password"
)

// fuzzHasher reads every scheme with limits small enough that a fuzzer
// can run thousands of checks a second: the decoders and their bounds are
// the same as at the default limits.
var fuzzHasher = password.Importing{
	Primary: password.Bcrypt{Cost: 4},
	Limits:  password.Limits{MaxMemoryKiB: 1024, MaxPasses: 4, MaxLanes: 4, MaxBcryptCost: 5, MaxIterations: 30000},
}

// fuzzImported checks what must hold for any stored hash and password:
// no panic; a hash Identify refuses is refused by Compare, with the same
// *HashError, and is not CanRead; and a password that matches is the only
// one that does among its near neighbours (the decoder did not turn the
// hash into one that accepts anything).
func fuzzImported(t *testing.T, hash, pw []byte) {
	h := fuzzHasher
	_, idErr := h.Identify(hash)
	err := h.Compare(hash, pw)
	if h.CanRead(hash) != (idErr == nil) {
		t.Fatalf("CanRead and Identify (%v) disagree on %q", idErr, hash)
	}
	if idErr != nil {
		var he *password.HashError
		if err == nil || !errors.As(err, &he) || err.Error() != idErr.Error() {
			t.Fatalf("Identify = %v but Compare = %v for %q", idErr, err, hash)
		}
		return
	}
	if err == nil {
		fuzzMatchesAlone(t, h, hash, pw)
	}
}

// fuzzMatchesAlone fails when a password near pw matches hash too (pw
// matching is no proof: the fuzzer may have found a hash of it).
func fuzzMatchesAlone(t *testing.T, h password.Hasher, hash, pw []byte) {
	if h.Compare(hash, pw) != nil {
		return
	}
	for _, other := range [][]byte{append(bytes.Clone(pw), 'x'), []byte(strings.ToUpper(string(pw)) + "!"), nil, []byte("\x00")} {
		if !bytes.Equal(other, pw) && h.Compare(hash, other) == nil {
			t.Fatalf("%q matches both %q and %q", hash, pw, other)
		}
	}
}

// addVectors seeds f with the known answers of the given schemes, under
// fuzzHasher's limits where they fit, and each cut short.
func addVectors(f *testing.F, schemes ...string) {
	for _, v := range importVectors {
		for _, s := range schemes {
			if v.scheme == s {
				f.Add(v.hash, v.password)
				f.Add(v.hash[:len(v.hash)/2], v.password)
			}
		}
	}
}

// fuzzTarget fuzzes fuzzImported from the known answers of schemes and
// the extra (hash, password) pairs.
func fuzzTarget(f *testing.F, schemes []string, extra ...string) {
	addVectors(f, schemes...)
	for i := 0; i+1 < len(extra); i += 2 {
		f.Add(extra[i], extra[i+1])
	}
	f.Fuzz(func(t *testing.T, hash, pw string) { fuzzImported(t, []byte(hash), []byte(pw)) })
}

func FuzzImportedBcrypt(f *testing.F) {
	fuzzTarget(f, []string{"bcrypt"},
		"$2a$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96", "password",
		"$2x$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU96", "password",
		"$2$04$UuTkLRZZ6QofpDOlMz32MuuxEHA43WOemOYHPz6.SjsVsyO1tDU9", "password")
}

func FuzzImportedArgon2(f *testing.F) {
	fuzzTarget(f, []string{"argon2id", "argon2i"},
		"$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "password",
		"$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8", "password")
}

func FuzzImportedScrypt(f *testing.F) { fuzzTarget(f, []string{"scrypt"}) }

func FuzzImportedPBKDF2(f *testing.F) { fuzzTarget(f, []string{"pbkdf2-sha256", "pbkdf2-sha512"}) }

func FuzzImportedDjango(f *testing.F) {
	fuzzTarget(f, []string{"pbkdf2_sha256", "pbkdf2_sha1"},
		"argon2$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4", "password",
		"md5$$5f4dcc3b5aa765d61d8327deb882cf99", "password")
}

// FuzzArgon2idCompare: the Argon2id hasher's own reader never panics, and
// refuses what it cannot read before hashing, with a *HashError.
func FuzzArgon2idCompare(f *testing.F) {
	for _, v := range argon2Vectors {
		f.Add(v.hash, v.password)
	}
	f.Fuzz(func(t *testing.T, hash, pw string) {
		var a password.Argon2id
		if a.CanRead([]byte(hash)) {
			if strings.Contains(hash, "$m=256,") { // cheap enough to check
				fuzzMatchesAlone(t, a, []byte(hash), []byte(pw))
			}
			return
		}
		var he *password.HashError
		if err := a.Compare([]byte(hash), []byte(pw)); !errors.As(err, &he) {
			t.Fatalf("CanRead false but Compare = %v", err)
		}
	})
}
