package password_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/password"
)

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
