package browsertest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// Passkeys gives the tab ctx Chromium's virtual authenticator (the
// DevTools WebAuthn domain): a CTAP2 platform authenticator with resident
// keys (passkeys) and user verification that always succeeds, and user
// presence answered at once. navigator.credentials then creates and uses
// passkeys without a person or a device. It returns the authenticator's
// id, for the WebAuthn domain's other commands (webauthn.GetCredentials).
//
// WebAuthn needs a secure context whose certificate Chromium trusts:
// serve the pages on http://localhost (a secure context), not on
// httptest's TLS server, whose certificate errors Chromium lets pages
// through but not WebAuthn.
func Passkeys(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	id, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) (webauthn.AuthenticatorID, error) {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return "", err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
			Options: &webauthn.VirtualAuthenticatorOptions{
				Protocol:                    webauthn.AuthenticatorProtocolCtap2,
				Ctap2version:                webauthn.Ctap2versionCtap21,
				Transport:                   webauthn.AuthenticatorTransportInternal,
				HasResidentKey:              true,
				HasUserVerification:         true,
				IsUserVerified:              true,
				AutomaticPresenceSimulation: true,
			}})
		return res.AuthenticatorID, err
	})
	if err != nil {
		t.Fatalf("virtual authenticator: %v", err)
	}
	return id
}

// Credentials lists the passkeys the tab's virtual authenticator id holds.
func Credentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	creds, err := chromedp.Run(ctx, func(ctx context.Context, t *chromedp.Target) ([]*webauthn.Credential, error) {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		return res.Credentials, err
	})
	if err != nil {
		t.Fatalf("virtual authenticator's credentials: %v", err)
	}
	return creds
}
