package main

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"sync"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/clientaddr"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/problem"
)

// directory is the app's own data: users, projects, and who is a member
// of which project.
type directory struct {
	mu      sync.Mutex
	users   map[string]string // clogin_id → name
	groups  map[string]bool   // group_id → exists
	members map[[2]string]bool
}

func newDirectory() *directory {
	return &directory{
		users:   map[string]string{"102670540": "Miles Davis"},
		groups:  map[string]bool{"100909072": true, "100909073": true},
		members: map[[2]string]bool{},
	}
}

// Join implements auth.Memberships: the first login to a project registers
// the user there.
func (d *directory) Join(_ context.Context, subject, project string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := [2]string{subject, project}
	if d.members[k] {
		return false, nil
	}
	d.members[k] = true
	return true, nil
}

type server struct {
	authn   *auth.Authenticator
	limits  *limit.Limiter
	dir     *directory
	cookies *middleware.Cookies
}

// maxBody bounds request bodies: 64 KiB, far above a users call.
const maxBody = 64 << 10

// usersRequest is the body of POST /reg/api2/users/. The ids are JSON
// integers, as in the seed; anything else is a 400.
type usersRequest struct {
	Action   string          `json:"action"`
	GroupID  *int64          `json:"group_id"`
	CloginID *int64          `json:"clogin_id"`
	Doc      json.RawMessage `json:"doc"`
}

type userInfo struct {
	CloginID    string `json:"clogin_id"`
	GroupID     string `json:"group_id"`
	ConnectedTo string `json:"connected_to"`
}

type usersResponse struct {
	Msg          string         `json:"msg"`
	SystemAction []string       `json:"system_action"`
	UserToken    string         `json:"user_token,omitempty"`
	Success      bool           `json:"success"`
	UserInfo     userInfo       `json:"user_info"`
	MetaInfo     map[string]any `json:"meta_info,omitempty"`
}

// Errors of this API, beside gatehouse's own.
var (
	errUnknownAction  = &apiError{http.StatusBadRequest, "unknown_action", "action must be login or logout"}
	errUnknownUser    = &apiError{http.StatusNotFound, "unknown_user", "no user with this clogin_id"}
	errUnknownProject = &apiError{http.StatusNotFound, "unknown_project", "no project with this group_id"}
)

type apiError struct {
	status     int
	code, text string
}

func (e *apiError) Error() string { return e.text }

func (s *server) users(w http.ResponseWriter, r *http.Request) {
	var req usersRequest
	if err := decodeJSON(w, r, maxBody, &req); err != nil {
		writeFailure(w, err)
		return
	}
	if err := s.checkRequest(req); err != nil {
		writeFailure(w, err)
		return
	}
	clogin, group := strconv.FormatInt(*req.CloginID, 10), strconv.FormatInt(*req.GroupID, 10)
	res := usersResponse{
		Success:      true,
		SystemAction: []string{},
		UserInfo:     userInfo{CloginID: clogin, GroupID: group, ConnectedTo: clogin},
		MetaInfo:     s.metaInfo(clogin, group),
	}
	switch req.Action {
	case "login":
		link, err := s.authn.IssueLoginLink(r.Context(), clogin, group)
		if err != nil {
			writeFailure(w, err)
			return
		}
		res.Msg, res.UserToken = "user logged in", link.Token
		if link.Joined {
			res.SystemAction = append(res.SystemAction, "user registered")
		}
	case "logout":
		if _, err := s.authn.LogoutProject(r.Context(), clogin, group); err != nil {
			writeFailure(w, err)
			return
		}
		res.Msg = "user logged out"
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *server) checkRequest(req usersRequest) error {
	switch {
	case req.Action == "":
		return &auth.FieldError{Field: "action", Reason: "missing"}
	case req.Action != "login" && req.Action != "logout":
		return errUnknownAction
	case req.GroupID == nil:
		return &auth.FieldError{Field: "group_id", Reason: "missing"}
	case req.CloginID == nil:
		return &auth.FieldError{Field: "clogin_id", Reason: "missing"}
	}
	s.dir.mu.Lock()
	defer s.dir.mu.Unlock()
	if _, ok := s.dir.users[strconv.FormatInt(*req.CloginID, 10)]; !ok {
		return errUnknownUser
	}
	if !s.dir.groups[strconv.FormatInt(*req.GroupID, 10)] {
		return errUnknownProject
	}
	return nil
}

// metaInfo is the seed's meta_info, filled from the demo data.
func (s *server) metaInfo(clogin, group string) map[string]any {
	s.dir.mu.Lock()
	name := s.dir.users[clogin]
	s.dir.mu.Unlock()
	return map[string]any{
		"u_name": name, "total_forms": "2", "completed_forms": "0", "total_user_forms": "2",
		"total_completed_user_forms": "0", "total_user_mandatory_forms": "2",
		"total_completed_user_mandatory_forms": "0", "total_order": "0.00", "total_paid": "0.00",
		"total_balance": "0.00", "status_id": "0", "status_name": nil, "status_color": nil,
		"application_date": "Dec 8th 2021 17:20", "application_date_raw": "2021-12-08 17:20:08",
		"u_comments": "0", "group_id": group, "uid": "4085258", "clogin_id": clogin, "excluded": "0",
		"connected_to": clogin, "total_user_tags": "0", "user_tag_ids": nil,
		"total_non_excluded_children": "1", "star": "0", "admin_initials": nil, "admin_color": nil,
		"assigned_admin_id": nil,
	}
}

// writeFailure answers in the seed's shape: {"success": false, "msg", "code"}.
func writeFailure(w http.ResponseWriter, err error) {
	status, code, msg := 0, "", ""
	var api *apiError
	if errors.As(err, &api) {
		status, code, msg = api.status, api.code, api.text
	} else {
		p := problem.Of(err)
		status, code, msg = p.Status, p.Code, p.Message
		// Invalid JSON types (a string id, say) are the caller's mistake.
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			code, msg = "invalid_field", "field "+strconv.Quote(typeErr.Field)+" has the wrong type"
		}
	}
	writeJSON(w, status, map[string]any{"success": false, "msg": msg, "code": code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var invalidLink = template.Must(template.New("invalid").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link no longer valid</title></head>
<body><h1>This login link is no longer valid</h1>
<p>It was already used, it expired, or it never existed. Ask for a new one.</p></body></html>
`))

// redeem spends a user token and sets the session cookie for its project.
func (s *server) redeem(w http.ResponseWriter, r *http.Request) {
	// The token is in the URL: keep it out of the Referer of what follows.
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	// Anyone may call this: it takes the client's limit.Verify first.
	err := s.limits.Allow(r.Context(), limit.Verify, clientaddr.FromRequest(r), "")
	var sess auth.Session
	if err == nil {
		sess, err = s.authn.RedeemLoginLink(r.Context(), r.URL.Query().Get("user_token"))
	}
	if err == nil {
		err = s.cookies.SetSession(w, r, sess.Project, sess.Token, sess.ExpiresAt)
	}
	if err != nil {
		p := problem.Of(err)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(p.Status)
		_ = invalidLink.Execute(w, nil)
		return
	}
	http.Redirect(w, r, "/reg/projects/"+sess.Project+"/", http.StatusSeeOther)
}

var projectPage = template.Must(template.New("project").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Project {{.Group}}</title></head>
<body><h1>Project {{.Group}}</h1><p id="user">Logged in as {{.Name}} (clogin_id {{.Clogin}}).</p></body></html>
`))

func (s *server) project(w http.ResponseWriter, r *http.Request) {
	p, _ := middleware.FromContext(r.Context())
	s.dir.mu.Lock()
	name := s.dir.users[p.Subject]
	s.dir.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = projectPage.Execute(w, struct{ Group, Name, Clogin string }{p.Project, name, p.Subject})
}
