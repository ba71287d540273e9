package account_test

import (
	"fmt"

	"github.com/gatehouse-go/gatehouse/account"
	"github.com/gatehouse-go/gatehouse/auth"
)

// A Mailer links its messages to the pages with PageLink: the confirm page
// for an address to confirm, the reset page for a forgotten password, and
// no link for a notice.
func ExamplePageLink() {
	base := "https://notes.example/account/pages"
	for _, m := range []auth.Message{
		{Purpose: auth.PurposeConfirmEmail, Token: "vt1.abc.YWRhQGV4YW1wbGUuY29t"},
		{Purpose: auth.PurposeResetPassword, Token: "rt1.xyz"},
		{Purpose: account.PurposeAccountExists},
	} {
		fmt.Printf("%s: %q\n", m.Purpose, account.PageLink(base, m))
	}
	// Output:
	// confirm_email: "https://notes.example/account/pages/confirm?token=vt1.abc.YWRhQGV4YW1wbGUuY29t"
	// reset_password: "https://notes.example/account/pages/reset?token=rt1.xyz"
	// account_exists: ""
}
