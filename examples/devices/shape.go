package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/problem"
)

// This file is the response-shaping seam of the seed: every answer goes
// through respond (success) or fail (error). gatehouse itself only returns
// values and errors (with problem.Of for their status and code); how
// they look on the wire, fields and suppressResponseCodes included, is the
// app's.

// queryValue returns the first value of the query parameter name, whose
// name matches in any case (the seed's API is ASP.NET, where APIKey and
// apikey are one parameter).
func queryValue(r *http.Request, name string) string {
	for k, v := range r.URL.Query() {
		if strings.EqualFold(k, name) && len(v) > 0 {
			return v[0]
		}
	}
	return ""
}

// requestedFields reads ?fields=a,b&fields=c: the top-level fields the
// client wants, or nil for all.
func requestedFields(r *http.Request) []string {
	var out []string
	for k, vs := range r.URL.Query() {
		if !strings.EqualFold(k, "fields") {
			continue
		}
		for _, v := range vs {
			for f := range strings.SplitSeq(v, ",") {
				if f = strings.TrimSpace(f); f != "" {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// suppressed reports ?suppressResponseCodes=true: the client wants 200
// whatever happens, and reads the outcome from the body.
func suppressed(r *http.Request) bool {
	ok, _ := strconv.ParseBool(queryValue(r, "suppressResponseCodes"))
	return ok
}

// respond answers a success: v as JSON, trimmed to the requested fields.
func respond(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if fields := requestedFields(r); len(fields) > 0 {
		body = pick(body, fields)
	}
	if suppressed(r) {
		status = http.StatusOK
	}
	writeRaw(w, status, body)
}

func writeRaw(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// pick keeps the named top-level fields of a JSON object, in their order
// and matching names in any case. Unknown names are ignored; when none is
// found the object is returned whole. An array has each of its objects
// trimmed so; anything else is returned as it is.
func pick(body []byte, fields []string) []byte {
	switch t := bytes.TrimSpace(body); {
	case len(t) > 0 && t[0] == '{':
		return pickObject(t, fields)
	case len(t) > 0 && t[0] == '[':
		var items []json.RawMessage
		if json.Unmarshal(t, &items) != nil {
			return body
		}
		for i, it := range items {
			items[i] = pickObject(it, fields)
		}
		out, err := json.Marshal(items)
		if err != nil {
			return body
		}
		return out
	default:
		return body
	}
}

func pickObject(obj []byte, fields []string) []byte {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return obj
	}
	var out bytes.Buffer
	out.WriteByte('{')
	found := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return obj
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return obj
		}
		if !wanted(key, fields) {
			continue
		}
		if found > 0 {
			out.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		out.Write(k)
		out.WriteByte(':')
		out.Write(val)
		found++
	}
	if found == 0 {
		return obj
	}
	out.WriteByte('}')
	return out.Bytes()
}

func wanted(key string, fields []string) bool {
	for _, f := range fields {
		if strings.EqualFold(f, key) {
			return true
		}
	}
	return false
}

var (
	errNoDevice  = &problem.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such device", Field: "deviceName"}
	errNoProfile = &problem.Error{Status: http.StatusNotFound, Code: "not_found", Message: "no such user"}
	errNeedsName = &problem.Error{Status: http.StatusBadRequest, Code: "missing_field", Message: "generateReAuthenticationToken needs a deviceName", Field: "deviceName"}
)

// errorBody is every error's JSON. StatusCode repeats the HTTP status, so
// that a client that asked for suppressResponseCodes still has it.
// Authenticated is false on the answers of Login and ReAuthenticate, the
// shape of the seed's LoginData.
type errorBody struct {
	Authenticated *bool      `json:"Authenticated,omitempty"`
	StatusCode    int        `json:"StatusCode"`
	Code          string     `json:"Code"`
	Message       string     `json:"Message"`
	Field         string     `json:"Field,omitempty"`
	Until         *time.Time `json:"Until,omitempty"`
}

// seedFields names gatehouse's request fields as the seed does.
var seedFields = map[string]string{
	"login":    "userName",
	"password": "password",
	"device":   "deviceName",
}

// problemOf maps an error to its status and body. This API's own errors
// are *problem.Error, with the seed's field names already.
func problemOf(err error) errorBody {
	p := problem.Of(err)
	b := errorBody{StatusCode: p.Status, Code: p.Code, Message: p.Message, Field: p.Field, Until: untilOf(p)}
	if name, ok := seedFields[b.Field]; ok {
		b.Message = strings.Replace(b.Message, strconv.Quote(b.Field), strconv.Quote(name), 1)
		b.Field = name
	}
	return b
}

// fail answers an error. Its body is never trimmed by fields: a client
// that asked for SessionToken alone still learns why there is none.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.failAs(w, r, err, false)
}

// failLogin answers a failed Login or ReAuthenticate: Authenticated false.
func (s *server) failLogin(w http.ResponseWriter, r *http.Request, err error) {
	s.failAs(w, r, err, true)
}

func (s *server) failAs(w http.ResponseWriter, r *http.Request, err error, login bool) {
	body := problemOf(err)
	if login {
		f := false
		body.Authenticated = &f
	}
	var reused *auth.ReusedError
	h := w.Header()
	switch status := body.StatusCode; {
	case status == http.StatusInternalServerError:
		// The client learns nothing of it; the operator does. The path
		// holds no secret (tokens travel in the query and the body).
		s.logger.Printf("devices: %s %s: %v", r.Method, r.URL.Path, err)
	case errors.As(err, &reused):
		// The audit trail of a stolen (or replayed) device token.
		s.logger.Printf("devices: reused re-authentication token of device %q of %s: chain revoked", reused.Device, reused.Subject)
		h.Set("WWW-Authenticate", `Bearer realm="devices"`)
	case body.Until != nil:
		secs := math.Ceil(body.Until.Sub(s.now()).Seconds())
		h.Set("Retry-After", strconv.FormatInt(max(int64(secs), 1), 10))
	case status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests:
		h.Set("Retry-After", "1")
	case status == http.StatusUnauthorized && !errors.Is(err, middleware.ErrAppCredentials):
		h.Set("WWW-Authenticate", `Bearer realm="devices"`)
	}
	status := body.StatusCode
	if suppressed(r) {
		status = http.StatusOK
	}
	raw, _ := json.Marshal(body)
	writeRaw(w, status, raw)
}

// untilOf is p.Until, or nil when the problem has no end, so that the
// body leaves "until" out.
func untilOf(p problem.Error) *time.Time {
	if p.Until.IsZero() {
		return nil
	}
	return &p.Until
}
