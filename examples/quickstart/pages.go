package main

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
)

// demoUsers is the app's user table: one user, found by username or email.
type demoUsers struct{ byLogin map[string]auth.User }

func newDemoUsers(cost int) (*demoUsers, error) {
	if cost == 0 {
		cost = 10
	}
	hash, err := password.Hash("gatehouse-demo", cost)
	if err != nil {
		return nil, err
	}
	demo := auth.User{Subject: "user-1", PasswordHash: hash, Active: true, EmailConfirmed: true, Email: "demo@example.com"}
	return &demoUsers{byLogin: map[string]auth.User{"demo": demo, "demo@example.com": demo}}, nil
}

func (d *demoUsers) FindUser(_ context.Context, login string) (auth.User, error) {
	u, ok := d.byLogin[login]
	if !ok {
		return auth.User{}, auth.ErrUnknownUser
	}
	return u, nil
}

var page = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>gatehouse quickstart</title>
<style>body{font:16px system-ui,sans-serif;max-width:28rem;margin:4rem auto}label{display:block;margin:.5rem 0}.error{color:#b00}</style>
</head>
<body>
<h1>gatehouse quickstart</h1>
{{if .Subject}}
<p id="user">Logged in as <strong>{{.Subject}}</strong>.</p>
<form method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>
{{else}}
{{if .Error}}<p class="error" id="error">Login failed: {{.Error}}</p>{{end}}
<form method="post" action="/login" id="login">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
<p>Try <code>demo</code> / <code>gatehouse-demo</code>.</p>
{{end}}
</body>
</html>
`))

func home(w http.ResponseWriter, r *http.Request) {
	data := struct{ Subject, Error string }{Error: r.URL.Query().Get("error")}
	if p, ok := middleware.FromContext(r.Context()); ok {
		data.Subject = p.Subject
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = page.Execute(w, data)
}

func me(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"subject": p.Subject, "project": p.Project, "expires_at": p.ExpiresAt.UTC()})
}
