package pwned_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/password/pwned"
)

// An app that wants breached passwords refused turns the range check on in
// its policy, and chooses what a failure of the API does.
func Example() {
	checker, err := pwned.New(pwned.Config{
		Timeout: time.Second,
		Mode:    pwned.FailClosed, // refuse to set a password that could not be checked
	})
	if err != nil {
		log.Fatal(err)
	}
	policy, err := password.NewPolicy(password.PolicyConfig{Breached: checker})
	if err != nil {
		log.Fatal(err)
	}
	err = policy.Check(context.Background(), "a new passphrase to check", "alice")
	switch {
	case errors.Is(err, pwned.ErrUnavailable):
		log.Printf("breach check failed, asking the user to retry: %v", err)
	case err != nil:
		log.Printf("refused: %v", err)
	}
}
