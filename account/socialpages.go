package account

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The pages of social login (Config.OIDC): the login page's "Log in with
// <Provider>" buttons lead to GET /login/oidc/{provider} here (the pages
// do not know where the API is mounted; the callback is the API's), and
// the linked-accounts page lists, links and unlinks.

// ProviderButton is a login provider as the pages offer it.
type ProviderButton struct {
	// Name is the oidc.Provider name, as in the URLs ("google").
	Name string
	// Label is the name as shown: its first letter in upper case
	// ("Google"). A template that wants another wording switches on Name.
	Label string
}

// providerButtons are the RP's providers, in its order.
func (a *Account) providerButtons() []ProviderButton {
	if a.cfg.OIDC == nil {
		return nil
	}
	var out []ProviderButton
	for _, n := range a.cfg.OIDC.Providers() {
		out = append(out, ProviderButton{Name: n, Label: providerLabel(n)})
	}
	return out
}

// providerLabel is a provider's name with its first letter in upper case.
func providerLabel(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if size == 0 {
		return name
	}
	return string(unicode.ToUpper(r)) + name[size:]
}

// oidcBegin is the login page's button: a redirect to the provider, or the
// message page.
func (p *pages) oidcBegin(w http.ResponseWriter, r *http.Request) {
	if err := p.a.cfg.OIDC.Begin(p.a.spendLinkIntent(w, r), r, r.PathValue("provider"), ""); err != nil {
		p.message(w, r, status(err), err)
	}
}

// identitiesPage lists the account's linked identities, with ?done= and
// ?error= (a link flow's callback redirects here).
func (p *pages) identitiesPage(w http.ResponseWriter, r *http.Request, s session) {
	p.identitiesAfter(w, r, s, nil)
}

func (p *pages) identitiesAfter(w http.ResponseWriter, r *http.Request, s session, err error) {
	d := p.sessionData(r, s, "identities")
	list, lerr := p.a.identities(r.Context(), s.p.Subject)
	if lerr != nil {
		p.message(w, r, status(lerr), lerr)
		return
	}
	d.Identities, d.HasPassword = list, len(s.user.PasswordHash) > 0
	if err != nil {
		d.Notice, d.NoticeCode = "", ""
		d.setError("identities", err)
	}
	p.render(w, status(err), "identities", d)
}

// linkIdentity is the page's "Link" button: a link flow with the provider.
func (p *pages) linkIdentity(w http.ResponseWriter, r *http.Request, s session) {
	v, err := p.form(w, r)
	if err == nil {
		err = p.a.proveLinker(r, s, v.Get("password"), v.Get("code"))
	}
	if err == nil {
		rw := &deferCookie{ResponseWriter: w, set: func() { p.a.setLinkIntent(w, s) }}
		if err = p.a.cfg.OIDC.Begin(rw, r, v.Get("provider"), ""); err == nil {
			return
		}
	}
	p.identitiesAfter(w, r, s, err)
}

// unlinkIdentity is the page's "Unlink" form: the identity and, when the
// account has one, the password.
func (p *pages) unlinkIdentity(w http.ResponseWriter, r *http.Request, s session) {
	_, err := p.do(w, r, func(v url.Values, c netip.Prefix) error {
		return p.a.unlink(r.Context(), c, info(r), s, v.Get("id"), v.Get("password"))
	})
	if err != nil {
		p.identitiesAfter(w, r, s, err)
		return
	}
	p.redirect(w, r, "/identities", "done", "identity_unlinked")
}

// isLinkFlow: the callback of a link flow sends its errors to the
// linked-accounts page, a login's to the login page.
func isLinkFlow(r *http.Request) bool {
	for _, c := range r.CookiesNamed(linkCookie) {
		if strings.Count(c.Value, ".") == 3 {
			return true
		}
	}
	return false
}
