package auth_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// tagKey stands for the app's tokens.Config.TagKey: a secret of at least
// 32 bytes from its configuration, the same on every instance.
var tagKey = []byte("example routing-tag key; load yours from secrets")

// deviceExampleUsers is an app's user table with a single account.
type deviceExampleUsers struct{ hash []byte }

func (u deviceExampleUsers) FindUser(_ context.Context, login string) (auth.User, error) {
	if login != "ada" {
		return auth.User{}, auth.ErrUnknownUser
	}
	return auth.User{Subject: "u-1", PasswordHash: u.hash, Active: true, EmailConfirmed: true}, nil
}

// A device logs in once with the password, then signs back in with its
// re-authentication token, which rotates on every use. A replay of a spent
// token ends the device's chain.
func ExampleAuthenticator_ReAuthenticate() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, _ := tokens.New(tokens.Config{Store: st, TagKey: tagKey})
	hasher := password.Bcrypt{Cost: 10}
	hash, _ := hasher.Hash([]byte("correct horse battery staple"))
	a, err := auth.New(auth.Config{Users: deviceExampleUsers{hash}, Tokens: tm, Counters: st, Hasher: hasher})
	if err != nil {
		panic(err)
	}

	first, err := a.LoginDevice(ctx, auth.Credentials{Login: "ada", Password: "correct horse battery staple"}, "", "phone")
	if err != nil {
		panic(err)
	}
	// Days later the app has only the device token.
	next, err := a.ReAuthenticate(ctx, "phone", first.DeviceToken)
	fmt.Println(err, next.User.Subject, next.DeviceToken != first.DeviceToken)

	// The spent token again: the phone's chain is revoked.
	_, err = a.ReAuthenticate(ctx, "phone", first.DeviceToken)
	var reused *auth.ReusedError
	fmt.Println(errors.Is(err, tokens.ErrReused), errors.As(err, &reused) && reused.Device == "phone", problem.Of(err).Code)

	_, err = a.ReAuthenticate(ctx, "phone", next.DeviceToken)
	fmt.Println(problem.Of(err).Code)

	devices, _ := a.Devices(ctx, "u-1")
	fmt.Println(len(devices))
	// Output:
	// <nil> u-1 true
	// true true token_reused
	// invalid_token
	// 0
}
