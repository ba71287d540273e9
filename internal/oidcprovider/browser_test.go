package oidcprovider_test

import (
	"context"
	"html/template"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/gatehouse-go/gatehouse/internal/browsertest"
	"github.com/gatehouse-go/gatehouse/internal/oidcprovider"
)

// TestBrowserLogin: Chromium follows an RP's authorization URL to the
// provider's login form, is refused a wrong password, logs in, and lands on
// the RP's callback with a code the RP exchanges for an ID token. This is
// the part of the RP's own browser test that belongs to the provider.
func TestBrowserLogin(t *testing.T) {
	browser := browsertest.New(t)
	tab := browsertest.NewTab(t, browser)

	callbackPage := template.Must(template.New("cb").Parse(
		`<!doctype html><title>RP</title><p id="code">{{.code}}</p><p id="state">{{.state}}</p>`))
	rpSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = callbackPage.Execute(w, map[string]string{"code": r.URL.Query().Get("code"), "state": r.URL.Query().Get("state")})
	}))
	t.Cleanup(rpSrv.Close)

	p, r := start(t)
	p.AddClient("browser-rp", secret, rpSrv.URL+"/callback")
	r.cfg.ClientID, r.cfg.RedirectURL = "browser-rp", rpSrv.URL+"/callback"
	verifier := oauth2.GenerateVerifier()
	authURL := r.cfg.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", "browser-nonce"))

	user, pass, login := "#"+oidcprovider.UsernameField, "#"+oidcprovider.PasswordField, "#"+oidcprovider.LoginButton
	bstep(t, tab, "open the authorization URL", chromedp.Navigate(authURL), chromedp.WaitVisible(user))
	bstep(t, tab, "log in with a wrong password",
		chromedp.SendKeys(user, "alice@example.com"),
		chromedp.SendKeys(pass, "wrong"),
		chromedp.Click(login),
		chromedp.WaitVisible("#error"))
	bstep(t, tab, "log in",
		chromedp.SetValue(pass, "correct horse"),
		chromedp.Click(login),
		chromedp.WaitVisible("#code"))
	code := brun(t, tab, "read the code", chromedp.Text("#code"))
	if state := brun(t, tab, "read the state", chromedp.Text("#state")); state != "browser-state" {
		t.Fatalf("state at the callback = %q", state)
	}
	tok, err := r.cfg.Exchange(r.ctx(), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange the browser's code: %v", err)
	}
	if c := r.verify(tok.Extra("id_token").(string)).claims; c["nonce"] != "browser-nonce" || c["sub"] != "sub-alice" {
		t.Errorf("id_token claims %v", c)
	}
}

const browserStepTimeout = 20 * time.Second

func bstep(t *testing.T, tab context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	brun(t, tab, what, chromedp.Steps(actions...))
}

// brun runs one action in tab within browserStepTimeout and returns its
// value.
func brun[T any](t *testing.T, tab context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}
