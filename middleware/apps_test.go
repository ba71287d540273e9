package middleware_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gatehouse-go/gatehouse/middleware"
)

func TestApps(t *testing.T) {
	app := middleware.AppCredential{ID: "138", User: "ops", Secret: "e8b9ca24f1b590af67e6271297d6e1f7"}
	for _, tc := range []struct {
		name   string
		source middleware.AppSource
		set    func(*http.Request)
		want   bool
	}{
		{"headers", middleware.FromHeaders("api-id", "api-user", "api-token"), func(r *http.Request) {
			r.Header.Set("api-id", "138")
			r.Header.Set("api-user", "ops")
			r.Header.Set("api-token", app.Secret)
		}, true},
		{"headers, wrong user", middleware.FromHeaders("api-id", "api-user", "api-token"), func(r *http.Request) {
			r.Header.Set("api-id", "138")
			r.Header.Set("api-user", "opz")
			r.Header.Set("api-token", app.Secret)
		}, false},
		{"headers, parts shifted", middleware.FromHeaders("api-id", "api-user", "api-token"), func(r *http.Request) {
			r.Header.Set("api-id", "138o")
			r.Header.Set("api-user", "ps")
			r.Header.Set("api-token", app.Secret)
		}, false},
		{"headers, none", middleware.FromHeaders("api-id", "api-user", "api-token"), func(*http.Request) {}, false},
		{"basic", middleware.FromBasicAuth(), func(r *http.Request) { r.SetBasicAuth("138", app.Secret) }, false}, // the user part is missing
		{"query, wrong", middleware.FromQuery("APIKey"), func(r *http.Request) { r.URL.RawQuery = "APIKey=nope" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apps, err := middleware.NewApps(middleware.AppsConfig{Credentials: []middleware.AppCredential{app}, Source: tc.source})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("POST", "/", nil)
			tc.set(r)
			w := httptest.NewRecorder()
			reached := false
			apps.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, _ := middleware.AppFromContext(r.Context())
				reached = id == "138"
			})).ServeHTTP(w, r)
			if reached != tc.want {
				t.Fatalf("let in: %v, want %v (%d %s)", reached, tc.want, w.Code, w.Body)
			}
			if !tc.want && (w.Code != 401 || !strings.Contains(w.Body.String(), `"invalid_app_credentials"`)) {
				t.Fatalf("refusal: %d %s", w.Code, w.Body)
			}
		})
	}
}

func TestAppsBasicAndQuery(t *testing.T) {
	basic, _ := middleware.NewApps(middleware.AppsConfig{
		Credentials: []middleware.AppCredential{{ID: "138", Secret: "e8b9ca24f1b590af"}},
		Source:      middleware.FromBasicAuth(),
	})
	r := httptest.NewRequest("POST", "/", nil)
	r.SetBasicAuth("138", "e8b9ca24f1b590af")
	if id, err := basic.Authenticate(r); err != nil || id != "138" {
		t.Fatalf("basic: %q %v", id, err)
	}
	query, _ := middleware.NewApps(middleware.AppsConfig{
		Credentials: []middleware.AppCredential{{Secret: "demo-api-key"}},
		Source:      middleware.FromQuery("APIKey"),
	})
	if err := query.Check(httptest.NewRequest("GET", "/?APIKey=demo-api-key", nil)); err != nil {
		t.Fatalf("query: %v", err)
	}
}

func TestNewAppsRejectsBadConfig(t *testing.T) {
	src := middleware.FromQuery("k")
	for name, cfg := range map[string]middleware.AppsConfig{
		"no source":    {Credentials: []middleware.AppCredential{{Secret: "long-enough-secret"}}},
		"no apps":      {Source: src},
		"short secret": {Source: src, Credentials: []middleware.AppCredential{{Secret: "short"}}},
	} {
		if _, err := middleware.NewApps(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
