package password_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/password"
)

// argon2Vectors are the reference implementation's known answers
// (P-H-C/phc-winner-argon2, src/test.c, version 0x13): the password, salt
// "somesalt" and the encoded hash it asserts.
var argon2Vectors = []struct{ password, hash string }{
	{"password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
	{"password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
	{"password", "$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc"},
	{"password", "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg"},
	{"differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"},
	{"password", "$argon2id$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$vfMrBczELrFdWP0ZsfhWsRPaHppYdP3MVEMIVlqoFBw"}, // salt "diffsalt"
}

func TestArgon2idKnownAnswers(t *testing.T) {
	var a password.Argon2id
	for _, v := range argon2Vectors {
		if !a.CanRead([]byte(v.hash)) {
			t.Errorf("CanRead(%s) = false", v.hash)
		}
		if err := a.Compare([]byte(v.hash), []byte(v.password)); err != nil {
			t.Errorf("Compare(%s, %q) = %v", v.hash, v.password, err)
		}
		if err := a.Compare([]byte(v.hash), []byte(v.password+"!")); !errors.Is(err, password.ErrMismatch) {
			t.Errorf("Compare(%s, wrong) = %v, want ErrMismatch", v.hash, err)
		}
		if !a.NeedsRehash([]byte(v.hash)) {
			t.Errorf("NeedsRehash(%s) = false: its settings are not OWASP's", v.hash)
		}
	}
}

func TestArgon2idHash(t *testing.T) {
	var a password.Argon2id
	h, err := a.Hash([]byte("correct horse battery staple"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "$argon2id$v=19$m=19456,t=2,p=1$"; !strings.HasPrefix(string(h), want) {
		t.Fatalf("hash %s does not begin %s", h, want)
	}
	if parts := strings.Split(string(h), "$"); len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("hash %s: want a 16-byte salt and a 32-byte hash, unpadded", h)
	}
	if err := a.Compare(h, []byte("correct horse battery staple")); err != nil {
		t.Fatal(err)
	}
	if a.NeedsRehash(h) || !a.CanRead(h) {
		t.Fatal("its own hash needs a rehash or cannot be read")
	}
	if !(password.Argon2id{Time: 3}).NeedsRehash(h) || !(password.Argon2id{Memory: 47104, Time: 1}).NeedsRehash(h) {
		t.Fatal("other settings do not ask for a rehash")
	}
	// The reference vectors' 8-byte salt, at OWASP's settings.
	short := "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	if !a.CanRead([]byte(short)) || !a.NeedsRehash([]byte(short)) {
		t.Fatal("a hash with an 8-byte salt does not ask for a rehash")
	}
	if h2, _ := a.Hash([]byte("correct horse battery staple")); string(h2) == string(h) {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	// Settings under OWASP's least are refused.
	for _, weak := range []password.Argon2id{{Memory: 1024, Time: 1}, {Memory: 7168, Time: 4}, {Memory: 64, Time: 1000, Threads: 16}} {
		if _, err := weak.Hash([]byte("pw")); err == nil {
			t.Errorf("%+v: hashed", weak)
		}
	}
}

// TestArgon2idRefusesHostileHashes: a stored hash that asks for too much
// memory or work, or that is not well formed, is not read: CanRead is
// false and Compare refuses it at once (a gigabyte of Argon2 would take
// seconds; these take microseconds).
func TestArgon2idRefusesHostileHashes(t *testing.T) {
	const salt, key = "c29tZXNhbHQ", "CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
	for _, tc := range []struct{ name, hash string }{
		{"4 GiB", "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key},
		{"over 128 MiB", "$argon2id$v=19$m=131073,t=1,p=1$" + salt + "$" + key},
		{"a thousand passes", "$argon2id$v=19$m=65536,t=1000,p=1$" + salt + "$" + key},
		{"255 lanes", "$argon2id$v=19$m=65536,t=2,p=255$" + salt + "$" + key},
		{"m under 8p", "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key},
		{"t=0", "$argon2id$v=19$m=256,t=0,p=1$" + salt + "$" + key},
		{"p=0", "$argon2id$v=19$m=256,t=2,p=0$" + salt + "$" + key},
		{"version 16", "$argon2id$v=16$m=256,t=2,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=256,t=2,p=1$" + salt + "$" + key},
		{"parameters out of order", "$argon2id$v=19$t=2,m=256,p=1$" + salt + "$" + key},
		{"a leading zero", "$argon2id$v=19$m=0256,t=2,p=1$" + salt + "$" + key},
		{"a sign", "$argon2id$v=19$m=+256,t=2,p=1$" + salt + "$" + key},
		{"a huge number", "$argon2id$v=19$m=99999999999999999999,t=2,p=1$" + salt + "$" + key},
		{"keyid", "$argon2id$v=19$m=256,t=2,p=1,keyid=AAAA$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "=$" + key},
		{"salt under 8 bytes", "$argon2id$v=19$m=256,t=2,p=1$c29tZQ$" + key},
		{"no salt", "$argon2id$v=19$m=256,t=2,p=1$$" + key},
		{"hash under 16 bytes", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$CTFhFdXPJO1a"},
		{"hash over 64 bytes", "$argon2id$v=19$m=256,t=2,p=1$" + salt + "$" + strings.Repeat(key, 3)},
		{"a line break", "$argon2id$v=19$m=256,t=2,p=1$c29tZX\nNhbHQ$" + key},
		{"stray bits", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHR$" + key},
		{"argon2d", "$argon2d$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"argon2i", "$argon2i$v=19$m=256,t=2,p=1$" + salt + "$" + key},
		{"cut short", "$argon2id$v=19$m=256,t=2,p=1$" + salt},
		{"empty", ""},
		{"bcrypt", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a password.Argon2id
			if a.CanRead([]byte(tc.hash)) {
				t.Errorf("CanRead(%q) = true", tc.hash)
			}
			err := a.Compare([]byte(tc.hash), []byte("password"))
			var he *password.HashError
			if !errors.As(err, &he) {
				t.Errorf("Compare = %v, want a *HashError", err)
			}
			if a.NeedsRehash([]byte(tc.hash)) {
				t.Errorf("NeedsRehash(%q) = true for a hash it cannot read", tc.hash)
			}
		})
	}
}

// TestArgon2idOwnSettingsRaiseTheLimits: an Argon2id set above the
// default Limits still reads its own hashes.
func TestArgon2idOwnSettingsRaiseTheLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes with 129 MiB")
	}
	a := password.Argon2id{Memory: password.DefaultMaxMemoryKiB + 1024, Time: 1}
	h, err := a.Hash([]byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	if !a.CanRead(h) || a.Compare(h, []byte("pw")) != nil {
		t.Fatalf("cannot read its own %s", h)
	}
	if (password.Argon2id{}).CanRead(h) {
		t.Fatal("the default Argon2id reads a hash over its limits")
	}
}

// TestLongPasswords: a 100-byte password (25 four-byte characters, or
// 34 Cyrillic ones) with each hasher: bcrypt refuses it clearly, Argon2id
// takes it, and Importing does as its Primary does.
func TestLongPasswords(t *testing.T) {
	long := []byte(strings.Repeat("🔑", 25))
	if len(long) != 100 {
		t.Fatal(len(long))
	}
	for _, tc := range []struct {
		h      password.Hasher
		max    int
		refuse bool
	}{
		{password.Bcrypt{Cost: 4}, 72, true},
		{password.Importing{Primary: password.Bcrypt{Cost: 4}}, 72, true},
		{password.Argon2id{}, password.MaxPassphraseBytes, false},
		{password.Importing{}, password.MaxPassphraseBytes, false},
	} {
		name := fmt.Sprintf("%T", tc.h)
		if got := password.MaxLen(tc.h); got != tc.max {
			t.Errorf("%s: MaxLen = %d, want %d", name, got, tc.max)
		}
		lenErr := password.CheckLen(tc.h, string(long))
		h, err := tc.h.Hash(long)
		if tc.refuse {
			if !errors.Is(err, password.ErrTooLong) || !errors.Is(lenErr, password.ErrTooLong) {
				t.Errorf("%s: Hash = %v, CheckLen = %v; want ErrTooLong", name, err, lenErr)
			}
			continue
		}
		if err != nil || lenErr != nil {
			t.Fatalf("%s: Hash = %v, CheckLen = %v", name, err, lenErr)
		}
		if err := tc.h.Compare(h, long); err != nil {
			t.Errorf("%s: Compare = %v", name, err)
		}
		// Every byte counts: no truncation at 72 or anywhere.
		other := append([]byte(nil), long...)
		other[99] ^= 1
		if err := tc.h.Compare(h, other); err == nil {
			t.Errorf("%s: a password differing in its last byte matches", name)
		}
		over := strings.Repeat("a", password.MaxPassphraseBytes+1)
		if _, err := tc.h.Hash([]byte(over)); !errors.Is(err, password.ErrTooLong) || !errors.Is(password.CheckLen(tc.h, over), password.ErrTooLong) {
			t.Errorf("%s: %d bytes: %v", name, len(over), err)
		}
	}
}
