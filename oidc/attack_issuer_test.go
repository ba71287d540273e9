package oidc_test

import (
	"bytes"
	"testing"

	"github.com/gatehouse-go/gatehouse/internal/fakeclock"
	"github.com/gatehouse-go/gatehouse/internal/teststores"
	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// TestAttackMapperIssuerShared: a plain OAuth2 provider's Issuer is a
// fixed string, the only namespace of its subjects (accounts link on
// (Issuer, Subject)), yet New accepts two providers with one Issuer that
// are different authorization servers. The GitHubMapper doc's example
// writes Issuer "https://github.com"; an app adding its GitHub Enterprise
// Server (APIBase https://ghe.corp/api/v3) from that example keeps the
// Issuer. Attack: GHES numeric user ids are small and chosen by whoever
// runs or joins that server: GHES user 42 logs in through "ghe" and gets
// the account linked to github.com user 42. Likewise a mapper given an
// OIDC provider's issuer mints subjects in that provider's namespace.
// Safe: New refuses two providers sharing an Issuer unless both are
// plain OAuth2 on the same token endpoint (one server, two client apps).
func TestAttackMapperIssuerShared(t *testing.T) {
	clock := fakeclock.New(start)
	tm, _ := tokens.New(tokens.Config{Store: teststores.All()[0].Open(t, clock.Now), TagKey: bytes.Repeat([]byte{7}, 32)})
	gh := oidc.Provider{Name: "github", Issuer: "https://github.com", ClientID: "c", RedirectURL: callback,
		Endpoints: oidc.Endpoints{Auth: "https://github.com/login/oauth/authorize", Token: "https://github.com/login/oauth/access_token"},
		Mapper:    oidc.GitHubMapper{}}
	ghe := oidc.Provider{Name: "ghe", Issuer: "https://github.com", ClientID: "c2", RedirectURL: callback,
		Endpoints: oidc.Endpoints{Auth: "https://ghe.corp/login/oauth/authorize", Token: "https://ghe.corp/login/oauth/access_token"},
		Mapper:    oidc.GitHubMapper{APIBase: "https://ghe.corp/api/v3"}}
	google := oidc.Provider{Name: "google", Issuer: "https://accounts.google.com", ClientID: "g", RedirectURL: callback}
	fake := ghe
	fake.Name, fake.Issuer = "fake", google.Issuer
	for name, ps := range map[string][]oidc.Provider{"TwoServersOneIssuer": {gh, ghe}, "MapperInOIDCNamespace": {google, fake}} {
		if _, err := oidc.New(oidc.Config{Tokens: tm, Providers: ps}); err == nil {
			t.Errorf("%s: New accepted two authorization servers sharing one Issuer (one subject namespace)", name)
		}
	}
	// One server, two client apps: the same namespace, fine.
	gh2 := gh
	gh2.Name, gh2.ClientID = "github2", "c3"
	if _, err := oidc.New(oidc.Config{Tokens: tm, Providers: []oidc.Provider{gh, gh2}}); err != nil {
		t.Errorf("two apps of one server: %v", err)
	}
}
