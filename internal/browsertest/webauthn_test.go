package browsertest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gatehouse-go/gatehouse/internal/browsertest"
)

const page = `<!doctype html><title>passkey</title><script>
async function create() {
  const cred = await navigator.credentials.create({publicKey: {
    challenge: new Uint8Array(32), rp: {name: "Test", id: "localhost"},
    user: {id: new TextEncoder().encode("u1"), name: "u1", displayName: "U1"},
    pubKeyCredParams: [{type: "public-key", alg: -7}],
    authenticatorSelection: {residentKey: "required", userVerification: "required"}}});
  const got = await navigator.credentials.get({publicKey: {challenge: new Uint8Array(32), rpId: "localhost", userVerification: "required"}});
  return cred.type + " " + (got.id === cred.id);
}
</script>`

// TestPasskeys: the virtual authenticator makes a discoverable passkey on
// http://localhost and signs in with it, with no person at the keyboard.
func TestPasskeys(t *testing.T) {
	browser := browsertest.New(t)
	tab := browsertest.NewTab(t, browser)
	id := browsertest.Passkeys(t, tab)
	ln, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(page))
	}))
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	url := "http://localhost:" + srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`create()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	creds := browsertest.Credentials(t, tab, id)
	if got != "public-key true" || len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("create and get: %q; credentials %+v", got, creds)
	}
}
