package auth

import (
	"fmt"
	"strings"
)

// ConfigError reports a call that the Authenticator's Config does not
// provide for. New cannot know which features an app will use, so it does
// not require what only some of them need: password reset needs a Mailer
// and Users that implement HashUpdater, email confirmation a Mailer. Each
// such method checks what it needs when called, first, before it reads
// its arguments or the store, and names everything missing at once. It is
// a mistake of the app, not of the request: the HTTP layer answers 500.
// Use errors.As to read it, say in a start-up self-test.
type ConfigError struct {
	Method  string   // the method called, such as "RequestPasswordReset"
	Missing []string // what it needs and Config lacks, such as "Config.Mailer"
}

func (e *ConfigError) Error() string {
	return "auth: " + e.Method + " needs " + strings.Join(e.Missing, " and ")
}

// needs returns a *ConfigError for method when it needs a Mailer, or
// Users that implement HashUpdater, and Config lacks it; else nil.
func (a *Authenticator) needs(method string, mailer, hashUpdater bool) error {
	var missing []string
	if mailer && a.mailer == nil {
		missing = append(missing, "Config.Mailer")
	}
	if _, ok := a.users.(HashUpdater); hashUpdater && !ok {
		missing = append(missing, fmt.Sprintf("Config.Users to implement HashUpdater (%T does not)", a.users))
	}
	if missing == nil {
		return nil
	}
	return &ConfigError{Method: method, Missing: missing}
}
