package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// GitHubMapper is a [UserMapper] for GitHub's OAuth apps, which have no
// OpenID Connect: the Subject is the numeric user id (a login name can be
// renamed and then taken by someone else), the Email the primary address
// from /user/emails with its verified flag. Configure the provider as:
//
//	oidc.Provider{
//		Name: "github", Issuer: "https://github.com",
//		Endpoints: oidc.Endpoints{
//			Auth:  "https://github.com/login/oauth/authorize",
//			Token: "https://github.com/login/oauth/access_token",
//		},
//		Scopes: []string{"read:user", "user:email"},
//		ClientID: id, ClientSecret: secret,
//		RedirectURL: "https://app.example.com/auth/github/callback",
//		Mapper: oidc.GitHubMapper{},
//	}
type GitHubMapper struct {
	// APIBase is the API's root; "https://api.github.com" by default (a
	// GitHub Enterprise Server's is https://HOST/api/v3).
	APIBase string
}

// maxAPIBody bounds what is read of a user API's answer.
const maxAPIBody = 1 << 20

// Identity asks GitHub's /user and /user/emails with the token.
func (g GitHubMapper) Identity(ctx context.Context, _ *oauth2.Token, client *http.Client) (Identity, error) {
	base := strings.TrimSuffix(g.APIBase, "/")
	if base == "" {
		base = "https://api.github.com"
	}
	var user struct {
		ID    json.Number `json:"id"`
		Name  string      `json:"name"`
		Login string      `json:"login"`
	}
	if err := getJSON(ctx, client, base+"/user", &user); err != nil {
		return Identity{}, err
	}
	if _, err := strconv.ParseUint(user.ID.String(), 10, 64); err != nil {
		return Identity{}, fmt.Errorf("%w: github /user: id %q", ErrProviderUnavailable, user.ID)
	}
	id := Identity{Subject: user.ID.String(), Name: user.Name}
	if id.Name == "" {
		id.Name = user.Login
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := getJSON(ctx, client, base+"/user/emails", &emails); err != nil {
		return Identity{}, err
	}
	for _, e := range emails {
		if e.Primary {
			id.Email, id.EmailVerified = e.Email, e.Verified
		}
	}
	return id, nil
}

func getJSON(ctx context.Context, client *http.Client, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProviderUnavailable, err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProviderUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrProviderUnavailable, url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s: %s", ErrProviderUnavailable, url, resp.Status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrProviderUnavailable, url, err)
	}
	return nil
}
