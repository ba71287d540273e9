package password_test

import (
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-go/gatehouse/password"
)

// TestBcryptCanRead: CanRead says true exactly for the hashes bcrypt's own
// Compare reads at full cost (a wrong password is then a mismatch), and
// false for those it refuses at once, without hashing.
func TestBcryptCanRead(t *testing.T) {
	b := password.Bcrypt{Cost: bcrypt.MinCost}
	good, err := b.Hash([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	noMinor := append([]byte("$2$04$"), good[7:]...) // the original version, "$2$"
	badSalt := append([]byte(nil), good...)
	badSalt[10] = '!'
	for _, tc := range []struct {
		name string
		hash []byte
		want bool
	}{
		{"bcrypt", good, true},
		{"bcrypt $2$", noMinor, true},
		{"bcrypt $2b$ cost 10", []byte("$2b$10$" + strings.Repeat("a", 53)), true},
		{"empty", nil, false},
		{"text", []byte("not a hash"), false},
		{"cut short", good[:58], false},
		{"other scheme", []byte("$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"), false},
		{"cost 3", append([]byte("$2a$03$"), good[7:]...), false},
		{"cost 32", append([]byte("$2a$32$"), good[7:]...), false},
		{"version 3", append([]byte("$3a$04$"), good[7:]...), false},
		{"salt outside the alphabet", badSalt, false},
	} {
		if got := b.CanRead(tc.hash); got != tc.want {
			t.Errorf("%s: CanRead(%q) = %v, want %v", tc.name, tc.hash, got, tc.want)
		}
		if strings.Contains(tc.name, "cost 10") {
			continue // a full compare at cost 10 proves nothing more
		}
		err := bcrypt.CompareHashAndPassword(tc.hash, []byte("wrong"))
		if mismatch := errors.Is(err, bcrypt.ErrMismatchedHashAndPassword); mismatch != tc.want {
			t.Errorf("%s: bcrypt's Compare answers %v; CanRead %v disagrees", tc.name, err, tc.want)
		}
	}
}

func TestHashRefusesLowCosts(t *testing.T) {
	for _, cost := range []int{0, 4, 9, 32} {
		if _, err := password.Hash("correct horse", cost); err == nil {
			t.Errorf("Hash at cost %d accepted", cost)
		}
	}
	h, err := password.Hash("correct horse", password.MinCost)
	if err != nil || (password.Bcrypt{Cost: password.MinCost}).Compare(h, []byte("correct horse")) != nil {
		t.Fatalf("Hash at MinCost: %v", err)
	}
}
