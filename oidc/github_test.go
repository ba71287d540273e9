package oidc_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/oidc"
)

// fakeGitHub serves GitHub's /user and /user/emails for one token holder.
func fakeGitHub(t *testing.T, user, emails string, status int) *httptest.Server {
	mux := http.NewServeMux()
	auth := func(h func(w http.ResponseWriter)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer at-") {
				w.WriteHeader(401)
				return
			}
			if status != 200 {
				w.WriteHeader(status)
				return
			}
			h(w)
		}
	}
	mux.HandleFunc("GET /user", auth(func(w http.ResponseWriter) { w.Write([]byte(user)) }))
	mux.HandleFunc("GET /user/emails", auth(func(w http.ResponseWriter) { w.Write([]byte(emails)) }))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func gitHubEnv(t *testing.T, api *httptest.Server) *env {
	return memEnv(t, func(cfg *oidc.Config, op *fakeOP) {
		cfg.Providers = append(cfg.Providers, oidc.Provider{Name: "github", Issuer: "https://github.com",
			Endpoints: oidc.Endpoints{Auth: op.issuer() + "/authorize", Token: op.issuer() + "/token"},
			Scopes:    []string{"read:user", "user:email"}, ClientID: clientID, ClientSecret: clientSecret,
			RedirectURL: callback, Mapper: oidc.GitHubMapper{APIBase: api.URL}})
	})
}

func TestGitHubMapper(t *testing.T) {
	api := fakeGitHub(t, `{"id": 583231, "login": "octocat", "name": ""}`,
		`[{"email":"old@example.com","primary":false,"verified":true},{"email":"octo@example.com","primary":true,"verified":false}]`, 200)
	e := gitHubEnv(t, api)
	b := new(browser)
	loc := e.begin(t, b, "github", "/dashboard")
	if q := mustQuery(t, loc); q.Get("nonce") != "" || q.Get("scope") != "read:user user:email" {
		t.Fatalf("authorization URL %s", loc)
	}
	id, next, err := e.finish(b, e.op.authorize(loc))
	if err != nil {
		t.Fatal(err)
	}
	want := oidc.Identity{Issuer: "https://github.com", Subject: "583231", Email: "octo@example.com",
		EmailVerified: false, Name: "octocat", Provider: "github"}
	if id != want || next != "/dashboard" {
		t.Fatalf("%+v %q, want %+v", id, next, want)
	}
	// A state of the GitHub flow does not finish an OIDC provider's flow,
	// and the other way round: the provider comes from the state's record.
	loc = e.begin(t, b, "op", "")
	if id, _, err := e.finish(b, e.op.authorize(loc)); err != nil || id.Provider != "op" || id.Issuer != e.op.issuer() {
		t.Fatalf("%+v %v", id, err)
	}
}

func TestGitHubMapperRefused(t *testing.T) {
	for _, c := range []struct {
		name, user, emails string
		status             int
	}{
		{"Down", "", "", 500},
		{"NotJSON", "<html>", "[]", 200},
		{"NoID", `{"login":"octocat"}`, "[]", 200},
		{"StringID", `{"id":"octocat"}`, "[]", 200},
		{"EmailsNotJSON", `{"id":1}`, "{", 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := gitHubEnv(t, fakeGitHub(t, c.user, c.emails, c.status))
			b := new(browser)
			id, _, err := e.finish(b, e.op.authorize(e.begin(t, b, "github", "")))
			wantCode(t, err, "provider_unavailable")
			if id != (oidc.Identity{}) {
				t.Fatalf("%+v", id)
			}
		})
	}
}
