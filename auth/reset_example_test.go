package auth_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// resetExampleUsers is an app's user table with one account, grace, whose
// address is not verified yet. It implements auth.HashUpdater, which
// password resets need.
type resetExampleUsers struct {
	mu       sync.Mutex
	hash     []byte
	verified bool
}

func (u *resetExampleUsers) FindUser(_ context.Context, login string) (auth.User, error) {
	if login != "grace@example.com" {
		return auth.User{}, auth.ErrUnknownUser
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return auth.User{Subject: "u-1", PasswordHash: u.hash, Active: true, EmailConfirmed: u.verified, Email: "grace@example.com"}, nil
}

func (u *resetExampleUsers) UpdatePasswordHash(_ context.Context, subject string, hash []byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.hash = hash
	return nil
}

// lastMail is a Mailer that keeps the last message, standing in for email.
type lastMail struct{ m auth.Message }

func (l *lastMail) Send(_ context.Context, m auth.Message) error { l.m = m; return nil }

// An app that lets unverified users in (Config.AllowUnconfirmed) hands
// them a verification in two halves, and redeems it once.
func ExampleAuthenticator_IssueVerification() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	hasher := password.Bcrypt{Cost: 10}
	hash, _ := hasher.Hash([]byte("hopper-secret"))
	users := &resetExampleUsers{hash: hash}
	a, err := auth.New(auth.Config{Users: users, Tokens: tm, Counters: st, Hasher: hasher, AllowUnconfirmed: true})
	if err != nil {
		panic(err)
	}

	s, _ := a.Login(ctx, auth.Credentials{Login: "grace@example.com", Password: "hopper-secret"}, "")
	fmt.Println("unverified:", s.Unconfirmed)
	v, _ := a.IssueVerification(ctx, s.User.Subject)

	subject, err := a.RedeemVerification(ctx, v.ID, v.Value)
	fmt.Println("verified:", subject, err)
	users.verified = subject == "u-1" // the app records it
	_, err = a.RedeemVerification(ctx, v.ID, v.Value)
	fmt.Println("again:", err)
	// Output:
	// unverified: true
	// verified: u-1 <nil>
	// again: tokens: invalid or expired token
}

// A reset link is mailed whether or not the address has an account (and
// the answer is the same); confirming it sets the password once and ends
// the user's sessions.
func ExampleAuthenticator_ConfirmPasswordReset() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	hasher := password.Bcrypt{Cost: 10}
	hash, _ := hasher.Hash([]byte("hopper-secret"))
	mail := &lastMail{}
	a, err := auth.New(auth.Config{Users: &resetExampleUsers{hash: hash, verified: true}, Tokens: tm, Counters: st, Hasher: hasher, Mailer: mail})
	if err != nil {
		panic(err)
	}
	old, _ := a.Login(ctx, auth.Credentials{Login: "grace@example.com", Password: "hopper-secret"}, "")

	fmt.Println("unknown address:", a.RequestPasswordReset(ctx, "nobody@example.com"))
	fmt.Println("known address:", a.RequestPasswordReset(ctx, "grace@example.com"))
	fmt.Println("mailed to:", mail.m.To, mail.m.Purpose)

	subject, err := a.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: mail.m.Token, Password: "a brand new secret"})
	fmt.Println("reset:", subject, err)
	_, err = tm.Validate(ctx, store.KindSession, old.Token)
	fmt.Println("old session:", err)
	_, err = a.Login(ctx, auth.Credentials{Login: "grace@example.com", Password: "a brand new secret"}, "")
	fmt.Println("new password:", err)
	// Output:
	// unknown address: <nil>
	// known address: <nil>
	// mailed to: grace@example.com reset_password
	// reset: u-1 <nil>
	// old session: tokens: invalid or expired token
	// new password: <nil>
}
