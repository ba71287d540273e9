package main

import (
	"context"
	"encoding/json"
	"html/template"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/problem"
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
<h2>Notes</h2>
<ul id="notes">{{range .Notes}}<li>{{.}}</li>{{else}}<li><em>none yet</em></li>{{end}}</ul>
<form method="post" action="/notes" id="note">
<label>New note <input name="text" maxlength="200" required></label>
<button type="submit">Add</button>
</form>
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

// home is the page at /: the login form, or the user's notes.
func home(n *notes) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data := struct {
			Subject, Error string
			Notes          []string
		}{Error: r.URL.Query().Get("error")}
		if p, ok := middleware.FromContext(r.Context()); ok {
			data.Subject, data.Notes = p.Subject, n.of(p.Subject)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_ = page.Execute(w, data)
	}
}

func me(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{"subject": p.Subject, "project": p.Project, "expires_at": p.ExpiresAt.UTC()})
}

// notes is the app's own data behind the guard: each user's latest notes,
// in memory. A real app keeps them in its database.
type notes struct {
	mu        sync.Mutex
	bySubject map[string][]string
}

// maxNotes is how many notes a user keeps; older ones are dropped.
const maxNotes = 20

func newNotes() *notes { return &notes{bySubject: map[string][]string{}} }

func (n *notes) of(subject string) []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.bySubject[subject])
}

// list answers GET /notes: the user's notes as JSON.
func (n *notes) list(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"notes": n.of(p.Subject)})
}

// add answers POST /notes: {"text": "..."} as JSON from API clients (201
// and the note), or text=... from the form on / (back to /). It is what
// a cross-site request forgery would aim at; the guard in front of it
// refuses a post with the cookie from another origin.
func (n *notes) add(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	var text string
	form := false
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "application/json":
		var in struct {
			Text string `json:"text"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			problem.Write(w, &problem.Error{Status: http.StatusBadRequest, Code: "malformed_body", Message: "the body is not a JSON note"})
			return
		}
		text = in.Text
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			problem.Write(w, &problem.Error{Status: http.StatusBadRequest, Code: "malformed_body", Message: "the form does not parse"})
			return
		}
		text, form = r.PostForm.Get("text"), true
	default:
		problem.Write(w, &problem.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send JSON or a form"})
		return
	}
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > 200 || !utf8.ValidString(text) {
		problem.Write(w, &problem.Error{Status: http.StatusBadRequest, Code: "invalid_field", Field: "text", Message: "a note is 1 to 200 characters"})
		return
	}
	n.mu.Lock()
	all := append(n.bySubject[p.Subject], text)
	if len(all) > maxNotes {
		all = slices.Clone(all[len(all)-maxNotes:])
	}
	n.bySubject[p.Subject] = all
	n.mu.Unlock()
	if form {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"text": text})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
