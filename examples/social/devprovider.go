// This file is the -dev-provider: an OpenID Provider in the process, for
// trying the example without registering an app anywhere. It imports
// gatehouse's internal/oidcprovider, which another module cannot: an app
// copying this example leaves this file out (examples/templates_test.go
// does), and -dev-provider then says it is not there.

package main

import (
	"crypto/rand"

	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
)

func init() { startDevProvider = listenDevProvider }

// listenDevProvider starts zitadel's provider (internal/oidcprovider,
// for development only) on another loopback port, registers the app as a
// confidential client with redirectURL, and adds the demo user.
func listenDevProvider(redirectURL string) (devProvider, devClient, error) {
	p, err := oidcprovider.Listen("127.0.0.1:0")
	if err != nil {
		return nil, devClient{}, err
	}
	c := devClient{ID: "social-example", Secret: rand.Text()}
	p.AddClient(c.ID, c.Secret, redirectURL)
	p.AddUser(oidcprovider.User{Subject: "dev-ada", Username: devUser, Password: devPassword,
		Email: "ada@example.com", EmailVerified: true, Name: "Ada Lovelace"})
	p.AddUser(oidcprovider.User{Subject: "dev-bob", Username: devUnverifiedUser, Password: devPassword,
		Email: "bob@example.com", EmailVerified: false, Name: "Bob (email not verified)"})
	return p, c, nil
}
