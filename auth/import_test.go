package auth_test

import (
	"context"
	"encoding/csv"
	"errors"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/internal/testfix"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// loadImported reads a user table exported from other systems (a CSV of
// id, email, password hash, lines starting with # skipped) into the
// test's users, by email: the worked example of docs/migrating.md.
func loadImported(t *testing.T, path string) *users {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	us := &users{byLogin: map[string]*auth.User{}, updated: map[string][]byte{}}
	for _, row := range rows[1:] { // id,email,password_hash
		us.byLogin[row[1]] = &auth.User{Subject: row[0], Email: row[1], PasswordHash: []byte(row[2]), Active: true, EmailConfirmed: true}
	}
	return us
}

// comparing is password.Importing recording the hashes it compares.
type comparing struct {
	password.Importing
	mu   sync.Mutex
	last []byte
}

func (c *comparing) Compare(hash, pw []byte) error {
	c.mu.Lock()
	c.last = hash
	c.mu.Unlock()
	return c.Importing.Compare(hash, pw)
}

// TestLoginImportedUsers: every user of a table exported from other
// systems (testdata/imported_users.csv) logs in with their password
// through an Authenticator whose Hasher is password.Importing{}, and each
// hash not already Argon2id at its settings is replaced by one that is;
// the rows no one can log in to fail like a wrong password, and
// Importing.Identify says why, before the switch.
func TestLoginImportedUsers(t *testing.T) {
	// The passwords of the users, as the known answers give them.
	passwords := map[string]string{
		"ana@example.com":   "rasmuslerdorf",                                   // bcrypt $2y$: the PHP manual, password_verify
		"ben@example.com":   "correctbatteryhorsestapler",                      // bcrypt $2b$: Python's bcrypt, in rust-bcrypt's tests
		"chloe@example.com": "password",                                        // Argon2id: phc-winner-argon2 src/test.c
		"dev@example.com":   "password",                                        // Argon2i: phc-winner-argon2 src/test.c
		"emma@example.com":  "password",                                        // scrypt: passlib's documentation
		"farid@example.com": "toomanysecrets",                                  // PBKDF2-SHA256: passlib's documentation
		"greta@example.com": "lètmein",                                         // Django pbkdf2_sha256: Django 1.6's test_hashers
		"hugo@example.com":  "not a password",                                  // Django pbkdf2_sha1: passlib's tests
		"ivan@example.com":  "правильный конь батарейка скрепка и ещё немного", // 88 bytes, Argon2id at its settings
	}
	// What Identify says of each row before the switch.
	schemes := map[string]string{
		"ana@example.com": "bcrypt", "ben@example.com": "bcrypt", "chloe@example.com": "argon2id",
		"dev@example.com": "argon2i", "emma@example.com": "scrypt", "farid@example.com": "pbkdf2-sha256",
		"greta@example.com": "pbkdf2_sha256", "hugo@example.com": "pbkdf2_sha1", "ivan@example.com": "argon2id",
	}
	// The rows no one can log in to, and what Identify says of them (as
	// docs/migrating.md quotes it).
	unreadable := map[string]struct {
		err    error
		reason string
	}{
		"jade@example.com": {password.ErrUnknownHash, `password: hash: unknown scheme "md5"`}, // Django's unsalted md5
		"kim@example.com":  {password.ErrUnknownHash, "password: bcrypt hash: $2x$ (crypt_blowfish's sign-extension bug) is not supported"},
		"lea@example.com":  {password.ErrOverLimits, "password: argon2id hash: m=4194304,t=2,p=1 is over the limits (m ≤ 131072 KiB, t ≤ 10, p ≤ 4)"},
		"max@example.com":  {password.ErrUnknownHash, "password: hash: empty"}, // no password (SSO only)
	}

	tbl := loadImported(t, "testdata/imported_users.csv")
	hasher := password.Importing{} // hashes with password.Argon2id{}
	for email, u := range tbl.byLogin {
		scheme, err := hasher.Identify(u.PasswordHash)
		if want, bad := unreadable[email]; bad {
			if !errors.Is(err, want.err) || err.Error() != want.reason {
				t.Errorf("Identify(%s's hash) = %v, want %s", email, err, want.reason)
			}
			continue
		}
		if err != nil || scheme != schemes[email] {
			t.Errorf("Identify(%s's hash) = %q, %v; want %q", email, scheme, err, schemes[email])
		}
	}

	env := testfix.New(t, tokens.Config{})
	rec := &comparing{Importing: hasher}
	a, err := auth.New(auth.Config{Users: tbl, Tokens: env.Tokens, Counters: env.Store, Hasher: rec, Now: env.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	client := 0
	login := func(email, pw string) error {
		client++
		_, err := a.Login(context.Background(), auth.Credentials{Login: email, Password: pw, Client: netip.PrefixFrom(netip.AddrFrom4([4]byte{192, 0, 2, byte(client)}), 32)}, "")
		return err
	}
	for email, pw := range passwords {
		t.Run(email, func(t *testing.T) {
			subject := tbl.byLogin[email].Subject
			if err := login(email, pw+"?"); !errors.Is(err, auth.ErrInvalidCredentials) {
				t.Fatalf("a wrong password: %v", err)
			}
			if err := login(email, pw); err != nil {
				t.Fatalf("the right password: %v", err)
			}
			// What the app's UpdatePasswordHash saved (once, or not at all
			// for ivan, whose row is Argon2id at its settings already).
			hash, saved := tbl.updated[subject]
			if want := email != "ivan@example.com"; saved != want {
				t.Fatalf("hash saved: %v, want %v", saved, want)
			}
			if saved {
				tbl.byLogin[email].PasswordHash = hash
				delete(tbl.updated, subject)
			}
			if !(password.Argon2id{}).CanRead(tbl.byLogin[email].PasswordHash) || hasher.NeedsRehash(tbl.byLogin[email].PasswordHash) {
				t.Fatalf("the hash after login is not Argon2id at its settings: %.30s…", tbl.byLogin[email].PasswordHash)
			}
			// The new hash logs in, and is not replaced again.
			if err := login(email, pw); err != nil {
				t.Fatalf("second login: %v", err)
			}
			if _, again := tbl.updated[subject]; again {
				t.Fatal("the hash was replaced again")
			}
		})
	}
	for email := range unreadable {
		rec.last = nil
		if err := login(email, "password"); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("%s: %v, want ErrInvalidCredentials", email, err)
		}
		// One full comparison, against the dummy hash (an Argon2id one),
		// not the row's: the time of a wrong password.
		if !hasher.CanRead(rec.last) || string(rec.last) == string(tbl.byLogin[email].PasswordHash) {
			t.Errorf("%s: compared against %.40q, not the dummy", email, rec.last)
		}
		if _, saved := tbl.updated[tbl.byLogin[email].Subject]; saved {
			t.Errorf("%s: a hash was saved", email)
		}
	}
	if len(passwords)+len(unreadable) != len(tbl.byLogin) {
		t.Fatalf("%d rows, %d checked", len(tbl.byLogin), len(passwords)+len(unreadable))
	}
}
