package password_test

import (
	"context"
	"fmt"

	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
)

// A sign-up handler checks the new password with the user's name and
// email, answers a refusal with its 400, and hashes the normalised form.
func ExamplePolicy_Check() {
	policy, err := password.NewPolicy(password.PolicyConfig{Words: []string{"Acme Shop"}})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for _, pw := range []string{"hunter2", "Password1234567!", "ALICE@example.com", " Acme Shop 2026!!! ", "cafe\u0301 on the corner at noon"} {
		if err := policy.Check(ctx, pw, "alice", "alice@example.com"); err != nil {
			p := problem.Of(err)
			fmt.Println(p.Status, p.Code)
			continue
		}
		fmt.Printf("accepted; hash %q\n", password.Normalize(pw))
	}
	// Output:
	// 400 password_too_short
	// 400 password_blocklisted
	// 400 password_context
	// 400 password_context
	// accepted; hash "café on the corner at noon"
}
