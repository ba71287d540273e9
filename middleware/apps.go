package middleware

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-go/gatehouse/problem"
)

// ErrAppCredentials: app credentials missing or wrong (401
// invalid_app_credentials). It never says which part was wrong.
var ErrAppCredentials = problem.New("middleware: invalid app credentials", problem.Error{
	Status: http.StatusUnauthorized, Code: "invalid_app_credentials", Message: "the app credentials are missing or wrong"})

// MinAppSecret is the shortest app secret NewApps accepts.
const MinAppSecret = 12

// AppCredential identifies an app calling server to server. ID and User
// are public names (either may be empty where an API has no such part);
// Secret is the secret.
type AppCredential struct {
	ID, User, Secret string
}

// AppSource reads the credentials a request presents; ok is false when it
// presents none.
type AppSource func(r *http.Request) (c AppCredential, ok bool)

// FromHeaders reads ID, User and Secret from three headers, such as
// "api-id", "api-user" and "api-token". An empty header name is skipped.
func FromHeaders(id, user, secret string) AppSource {
	return func(r *http.Request) (AppCredential, bool) {
		c := AppCredential{Secret: r.Header.Get(secret)}
		if id != "" {
			c.ID = r.Header.Get(id)
		}
		if user != "" {
			c.User = r.Header.Get(user)
		}
		return c, c.Secret != ""
	}
}

// FromBasicAuth reads HTTP Basic credentials as ID:Secret.
func FromBasicAuth() AppSource {
	return func(r *http.Request) (AppCredential, bool) {
		id, secret, ok := r.BasicAuth()
		return AppCredential{ID: id, Secret: secret}, ok && secret != ""
	}
}

// FromQuery reads the Secret alone from a query parameter, such as
// "APIKey". Query strings end up in logs: prefer a header where the API
// allows it.
func FromQuery(param string) AppSource {
	return func(r *http.Request) (AppCredential, bool) {
		s := r.URL.Query().Get(param)
		return AppCredential{Secret: s}, s != ""
	}
}

// AppsConfig configures [Apps].
type AppsConfig struct {
	// Credentials are the apps allowed in; at least one. Apps keeps only
	// their hashes.
	Credentials []AppCredential
	// Source reads what a request presents. Required.
	Source AppSource
	// Deny answers refused requests; default 401 invalid_app_credentials
	// as JSON.
	Deny func(w http.ResponseWriter, r *http.Request, err error)
}

// Apps guards server-to-server endpoints with app credentials. It is safe
// for concurrent use.
//
// It keeps the SHA-256 of each credential (ID, User and Secret together)
// and looks the presented one up by its hash: the comparison an attacker
// can time is between digests they cannot steer, and a miss says nothing
// about which part was wrong.
type Apps struct {
	ids    map[[32]byte]string // credential hash → app ID
	source AppSource
	deny   func(http.ResponseWriter, *http.Request, error)
}

// NewApps checks cfg and returns Apps.
func NewApps(cfg AppsConfig) (*Apps, error) {
	if cfg.Source == nil {
		return nil, errors.New("middleware: AppsConfig.Source is nil")
	}
	if len(cfg.Credentials) == 0 {
		return nil, errors.New("middleware: AppsConfig.Credentials is empty")
	}
	a := &Apps{ids: make(map[[32]byte]string, len(cfg.Credentials)), source: cfg.Source, deny: cfg.Deny}
	for _, c := range cfg.Credentials {
		if len(c.Secret) < MinAppSecret {
			return nil, fmt.Errorf("middleware: the secret of app %q is shorter than %d bytes", c.ID, MinAppSecret)
		}
		a.ids[credentialHash(c)] = c.ID
	}
	if a.deny == nil {
		a.deny = func(w http.ResponseWriter, _ *http.Request, err error) { problem.Write(w, err) }
	}
	return a, nil
}

// credentialHash hashes the three parts length-prefixed, so that no two
// different credentials share an encoding.
func credentialHash(c AppCredential) [32]byte {
	h := sha256.New()
	for _, part := range []string{c.ID, c.User, c.Secret} {
		var n [binary.MaxVarintLen64]byte
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))])
		h.Write([]byte(part))
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Authenticate returns the ID of the app the request's credentials belong
// to, or ErrAppCredentials.
func (a *Apps) Authenticate(r *http.Request) (string, error) {
	c, ok := a.source(r)
	if !ok {
		return "", ErrAppCredentials
	}
	id, ok := a.ids[credentialHash(c)]
	if !ok {
		return "", ErrAppCredentials
	}
	return id, nil
}

// Check reports whether the request carries valid app credentials.
func (a *Apps) Check(r *http.Request) error {
	_, err := a.Authenticate(r)
	return err
}

type appKey struct{}

// AppFromContext returns the ID of the app an [Apps] guard let in.
func AppFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(appKey{}).(string)
	return id, ok
}

// Handler lets through requests with valid app credentials, with the app's
// ID in their context, and denies the others.
func (a *Apps) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := a.Authenticate(r)
		if err != nil {
			a.deny(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), appKey{}, id)))
	})
}
