package password_test

import (
	"testing"

	"github.com/gatehouse-go/gatehouse/password"
)

// BenchmarkVerify reports the time and memory of one login's check (a
// Compare of the right password) with each hasher at its settings here:
// bcrypt at the default cost 10 and at 12, Argon2id at OWASP's settings
// (the default) and at RFC 9106's second recommendation (64 MiB, t=3,
// p=4), and Importing with its default Argon2id primary (its reading of
// the hash adds nothing that shows). docs/settings.md quotes the numbers:
//
//	go test -run '^$' -bench Verify -benchmem ./password
func BenchmarkVerify(b *testing.B) {
	pw := []byte("correct horse battery staple")
	for _, tc := range []struct {
		name string
		h    password.Hasher
	}{
		{"bcrypt/cost=10", password.Bcrypt{Cost: 10}},
		{"bcrypt/cost=12", password.Bcrypt{Cost: 12}},
		{"argon2id/m=19456,t=2,p=1", password.Argon2id{}},
		{"argon2id/m=65536,t=3,p=4", password.Argon2id{Memory: 64 * 1024, Time: 3, Threads: 4}},
		{"importing/argon2id-primary", password.Importing{}},
	} {
		hash, err := tc.h.Hash(pw)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if err := tc.h.Compare(hash, pw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
