package passkey_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"

	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/passkey/passkeytest"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// A passkey registered, then used for a passwordless login; the browser
// is passkeytest's virtual authenticator.
func Example() {
	ctx := context.Background()
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: []byte(rand.Text() + rand.Text())})
	if err != nil {
		log.Fatal(err)
	}
	pk, err := passkey.New(passkey.Config{
		RPID: "example.com", RPDisplayName: "Example", Origins: []string{"https://example.com"},
		Tokens: tm, Credentials: new(mfa.MemoryFactors),
	})
	if err != nil {
		log.Fatal(err)
	}
	browser := passkeytest.New("https://example.com")

	// Signed in, the user adds a passkey: the page hands the options to
	// navigator.credentials.create and posts back credential.toJSON().
	options, err := pk.BeginRegistration(ctx, "user-7f3a", "alice@example.com", "Alice")
	if err != nil {
		log.Fatal(err)
	}
	response, key, err := browser.Register(options)
	if err != nil {
		log.Fatal(err)
	}
	c, err := pk.FinishRegistration(ctx, "user-7f3a", response, "Phone")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("registered:", c.Nickname)

	// Later, a login by passkey alone.
	options, err = pk.BeginPasswordless(ctx)
	if err != nil {
		log.Fatal(err)
	}
	response, err = browser.Login(options, key)
	if err != nil {
		log.Fatal(err)
	}
	subject, res, err := pk.FinishPasswordless(ctx, response)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", subject, "verified:", res.UserVerified)

	// The same response again: its challenge is spent.
	_, _, err = pk.FinishPasswordless(ctx, response)
	fmt.Println(err)
	// Output:
	// registered: Phone
	// signed in: user-7f3a verified: true
	// passkey: invalid or expired challenge
}
