package oidc_test

import (
	"crypto/rand"
	"log"
	"net/http"

	"github.com/gatehouse-go/gatehouse/oidc"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store/memory"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// An app with "Log in with Google" and "Log in with GitHub". The login
// button links to /login/google?next=/dashboard; the callback finds (or
// creates) the account linked to (Issuer, Subject) and signs the user in.
func Example() {
	st := memory.New(memory.Options{})
	defer st.Close()
	tm, err := tokens.New(tokens.Config{Store: st, TagKey: []byte(rand.Text() + rand.Text())})
	if err != nil {
		log.Fatal(err)
	}
	rp, err := oidc.New(oidc.Config{
		Tokens: tm,
		Providers: []oidc.Provider{{
			Name: "google", Issuer: "https://accounts.google.com",
			ClientID: "1234.apps.googleusercontent.com", ClientSecret: "from-the-console",
			RedirectURL: "https://app.example.com/auth/callback",
		}, {
			Name: "github", Issuer: "https://github.com",
			Endpoints: oidc.Endpoints{
				Auth:  "https://github.com/login/oauth/authorize",
				Token: "https://github.com/login/oauth/access_token",
			},
			Scopes:   []string{"read:user", "user:email"},
			ClientID: "Iv1.abc", ClientSecret: "from-github",
			RedirectURL: "https://app.example.com/auth/callback",
			Mapper:      oidc.GitHubMapper{},
		}},
		RedirectAllowlist: []string{"/dashboard", "/settings"},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login/{provider}", func(w http.ResponseWriter, r *http.Request) {
		if err := rp.Begin(w, r, r.PathValue("provider"), r.FormValue("next")); err != nil {
			problem.Write(w, err)
		}
	})
	mux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
		id, next, err := rp.Finish(w, r)
		if err != nil {
			problem.Write(w, err)
			return
		}
		// Link on (id.Issuer, id.Subject) only; never on id.Email.
		_ = id
		if next == "" {
			next = "/"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	})
	_ = http.Handler(mux)
}
