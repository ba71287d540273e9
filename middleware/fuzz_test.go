package middleware_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gatehouse-go/gatehouse/middleware"
)

// FuzzApps: whatever headers, Basic credentials and query a request
// carries, each AppSource (FromHeaders, FromBasicAuth, FromQuery) lets it
// in only with the exact configured credential, and the guard answers
// everything else 401 invalid_app_credentials as JSON.
func FuzzApps(f *testing.F) {
	const (
		id     = "15263"
		user   = "api-admin@regpacks.com"
		secret = "cd2e514f-7gab-3cde-62fg-51abcd4e7362"
	)
	cred := middleware.AppCredential{ID: id, User: user, Secret: secret}
	sources := []struct {
		name string
		src  middleware.AppSource
		cred middleware.AppCredential
		// presented is what the request carries for this source, read
		// independently of the source; ok is false when it carries none.
		presented func(r *http.Request) (middleware.AppCredential, bool)
	}{
		{"FromHeaders", middleware.FromHeaders("api-id", "api-user", "api-token"), cred,
			func(r *http.Request) (middleware.AppCredential, bool) {
				c := middleware.AppCredential{ID: first(r.Header["Api-Id"]), User: first(r.Header["Api-User"]), Secret: first(r.Header["Api-Token"])}
				return c, c.Secret != ""
			}},
		{"FromBasicAuth", middleware.FromBasicAuth(), middleware.AppCredential{ID: id, Secret: secret},
			func(r *http.Request) (middleware.AppCredential, bool) {
				id, secret, ok := r.BasicAuth()
				return middleware.AppCredential{ID: id, Secret: secret}, ok && secret != ""
			}},
		{"FromQuery", middleware.FromQuery("APIKey"), middleware.AppCredential{Secret: secret},
			func(r *http.Request) (middleware.AppCredential, bool) {
				q, _ := url.ParseQuery(r.URL.RawQuery)
				s := first(q["APIKey"])
				return middleware.AppCredential{Secret: s}, s != ""
			}},
	}
	guards := make([]*middleware.Apps, len(sources))
	for i, s := range sources {
		g, err := middleware.NewApps(middleware.AppsConfig{Credentials: []middleware.AppCredential{s.cred}, Source: s.src})
		if err != nil {
			f.Fatal(err)
		}
		guards[i] = g
	}
	basic := "Basic " + b64(id+":"+secret)
	for _, seed := range [][5]string{
		{id, user, secret, "", ""},
		{id, user, secret + " ", "", ""},
		{id, "", secret, "", ""},
		{"", "", "", basic, ""},
		{"", "", "", "basic " + b64(id+":"+secret), ""},
		{"", "", "", "Basic " + b64(id+":"), ""},
		{"", "", "", "Basic " + b64(":"+secret), ""},
		{"", "", "", "Basic !!!", ""},
		{"", "", "", "Bearer " + secret, ""},
		{"", "", "", "", "APIKey=" + secret},
		{"", "", "", "", "apikey=" + secret},
		{"", "", "", "", "APIKey=&APIKey=" + secret},
		{"", "", "", "", "APIKey=" + secret + ";x=1"},
		{"", "", "", "", "APIKey=%zz&APIKey=" + secret},
		{"\x00", "\r\n", "é", "Basic \x00", "%"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, found := middleware.AppFromContext(r.Context()); !found {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	f.Fuzz(func(t *testing.T, apiID, apiUser, apiToken, authz, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		for k, v := range map[string]string{"api-id": apiID, "api-user": apiUser, "api-token": apiToken, "Authorization": authz} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		for i, s := range sources {
			got, err := guards[i].Authenticate(r)
			c, carried := s.presented(r)
			exact := carried && c == s.cred
			switch {
			case err == nil && (!exact || got != s.cred.ID):
				t.Fatalf("%s let in %+v (carried %v) as %q; configured %+v", s.name, c, carried, got, s.cred)
			case err != nil && exact:
				t.Fatalf("%s refused the configured credential: %v", s.name, err)
			case err != nil && err != middleware.ErrAppCredentials:
				t.Fatalf("%s: undocumented error %v", s.name, err)
			}
			w := httptest.NewRecorder()
			guards[i].Handler(ok).ServeHTTP(w, r)
			switch {
			case err == nil && w.Code != http.StatusNoContent:
				t.Fatalf("%s: the handler answered %d to a request Authenticate let in", s.name, w.Code)
			case err != nil:
				var p struct{ Code string }
				if w.Code != http.StatusUnauthorized || json.Unmarshal(w.Body.Bytes(), &p) != nil || p.Code != "invalid_app_credentials" {
					t.Fatalf("%s: refused with %d %s", s.name, w.Code, w.Body)
				}
			}
		}
	})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
