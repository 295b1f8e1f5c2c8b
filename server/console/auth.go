package console

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"fhirlink/server"
)

// Cookies: the session, and before sign-in the token the sign-in forms
// echo (a double-submit CSRF token, so no other site can sign a visitor
// in as someone else).
const (
	sessionCookie = "fhirlink_console"
	preCookie     = "fhirlink_console_pre"
)

// maxFormBytes bounds a console form.
const maxFormBytes = 64 << 10

// session is a signed-in practice or integrator.
type session struct {
	token         string
	role, subject string
	credential    []byte // see server.ConsoleToken.Credential
	who           string // the practice's or integrator's name
	csrf          string
}

// csrfOf is the CSRF token of a session token: only the holder of the
// (HttpOnly) session cookie can have it, so it needs no storage.
func csrfOf(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("fhirlink console csrf"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func same(a, b string) bool { return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// session returns the request's live session, or nil.
func (c *Console) session(r *http.Request) *session {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	ctx := r.Context()
	t, err := c.Store.ConsoleToken(ctx, server.HashConsoleToken(ck.Value), time.Now())
	if err != nil || t.Link {
		return nil
	}
	s := &session{token: ck.Value, role: t.Role, subject: t.SubjectID, credential: t.Credential, csrf: csrfOf(ck.Value)}
	switch t.Role {
	case server.ConsolePractice:
		site, err := c.Store.Site(ctx, t.SubjectID)
		if err != nil {
			return nil
		}
		if hash, err := c.Store.SiteSecretHash(ctx, t.SubjectID); err != nil || subtle.ConstantTimeCompare(hash, t.Credential) != 1 {
			return nil // the agent's secret was replaced since
		}
		s.who = site.Name
	case server.ConsoleIntegrator:
		var in *server.Integrator
		if t.Credential != nil {
			in, err = c.Store.IntegratorByKeyHash(ctx, t.Credential) // fails once that key is rotated
		} else {
			in, err = c.Store.Integrator(ctx, t.SubjectID)
		}
		if err != nil || in.ID != t.SubjectID {
			return nil
		}
		s.who = in.Name
	default:
		return nil
	}
	return s
}

// secure reports whether the request came over TLS, so cookies are Secure.
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || (c.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: Path, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

// preToken returns the visitor's pre-sign-in CSRF token, setting the
// cookie when it has none.
func (c *Console) preToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(preCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.setCookie(w, r, preCookie, v, 3600)
	return v
}

// sameOrigin refuses a form posted from another site: browsers say where
// a request comes from in Sec-Fetch-Site.
func sameOrigin(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return nil
	}
	return server.Errorf(server.EFORBIDDEN, "this form was posted from another site")
}

// readForm parses a posted form, bounded.
func readForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return server.Errorf(server.EINVALID, "the form could not be read")
	}
	return sameOrigin(r)
}

// page serves a GET page for a signed-in subject of role; anyone else is
// sent to sign in, or refused when signed in as the other role.
func (c *Console) page(role string, fn func(w http.ResponseWriter, r *http.Request, s *session) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s := c.session(r)
		if s == nil {
			http.Redirect(w, r, Path+"/sign-in", http.StatusSeeOther)
			return
		}
		if s.role != role {
			c.fail(w, r, s, server.Errorf(server.EFORBIDDEN, "this page is for a signed-in %s; you are signed in as %s %s", role, s.role, s.who))
			return
		}
		if err := fn(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	}
}

// statusWriter keeps the status an action answered, for its audit record.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// action serves a POST action of a signed-in subject of role (any, for
// ""): it checks the session and its CSRF token, runs fn, which answers,
// and audits the action with fn's detail, refusals included.
func (c *Console) action(name, role string, fn func(w http.ResponseWriter, r *http.Request, s *session) (detail string, err error)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		s := c.session(r)
		detail, err := "", readForm(w, r)
		switch {
		case err != nil:
		case s == nil:
			err = server.Errorf(server.EUNAUTHORIZED, "your console session has ended: sign in again")
		case !same(r.PostForm.Get("csrf"), s.csrf):
			err = server.Errorf(server.EFORBIDDEN, "this form has expired or did not come from the console: reload the page and try again")
		case role != "" && s.role != role:
			err = server.Errorf(server.EFORBIDDEN, "only a signed-in %s can do this", role)
		default:
			detail, err = fn(w, r, s)
		}
		if err != nil {
			c.fail(w, r, s, err)
		}
		c.audit(r, start, name, s, cmp.Or(w.status, http.StatusOK), detail)
	}
}

// startSession signs the subject in: a new session standing on credential
// (a practice's always on the site's current agent secret), its cookie,
// and on to the subject's page.
func (c *Console) startSession(w http.ResponseWriter, r *http.Request, role, subject string, credential []byte) error {
	s, err := c.newSession(w, r, role, subject, credential)
	if err != nil {
		return err
	}
	c.setCookie(w, r, preCookie, "", -1)
	http.Redirect(w, r, Path+"/"+s.role, http.StatusSeeOther)
	return nil
}

// newSession stores a session and sets its cookie.
func (c *Console) newSession(w http.ResponseWriter, r *http.Request, role, subject string, credential []byte) (*session, error) {
	if role == server.ConsolePractice {
		hash, err := c.Store.SiteSecretHash(r.Context(), subject)
		if err != nil {
			return nil, err
		}
		credential = hash
	}
	ttl := cmp.Or(c.SessionTTL, DefaultSessionTTL)
	token, err := server.NewConsoleToken(r.Context(), c.Store, false, role, subject, credential, time.Now().Add(ttl))
	if err != nil {
		return nil, err
	}
	c.setCookie(w, r, sessionCookie, token, int(ttl/time.Second))
	return &session{token: token, role: role, subject: subject, credential: credential, csrf: csrfOf(token)}, nil
}

// GET /console/: a signed-in subject's page, or the sign-in page.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	if s := c.session(r); s != nil {
		http.Redirect(w, r, Path+"/"+s.role, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, Path+"/sign-in", http.StatusSeeOther)
}

// GET /console/sign-in
func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "sign-in", &view{Title: "Sign in", Data: c.preToken(w, r)})
}

// POST /console/sign-in: role practice with siteId and secret (the agent's
// credential), or role integrator with key (an API key).
func (c *Console) signIn(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	err := readForm(w, r)
	role, detail := r.PostForm.Get("role"), ""
	var subject string
	siteExists := false
	ctx := r.Context()
	switch {
	case err != nil:
	case !same(r.PostForm.Get("csrf"), cookieValue(r, preCookie)):
		err = server.Errorf(server.EFORBIDDEN, "the sign-in form has expired: reload it and try again")
	case role == server.ConsolePractice:
		subject = strings.TrimSpace(r.PostForm.Get("siteId"))
		detail = "role=practice siteId=" + short(subject, 64)
		if _, perr := uuid.Parse(subject); perr != nil {
			err = server.Errorf(server.EUNAUTHORIZED, "wrong site id or agent secret")
		} else if aerr := server.AuthenticateSite(ctx, c.Store, subject, strings.TrimSpace(r.PostForm.Get("secret"))); aerr != nil {
			err, siteExists = aerr, server.ErrorCode(aerr) == server.EUNAUTHORIZED
			if code := server.ErrorCode(aerr); code == server.ENOTFOUND || code == server.EUNAUTHORIZED {
				err = server.Errorf(server.EUNAUTHORIZED, "wrong site id or agent secret")
			}
		}
	case role == server.ConsoleIntegrator:
		detail = "role=integrator"
		in, ierr := c.Store.IntegratorByKeyHash(ctx, server.HashSecret(strings.TrimSpace(r.PostForm.Get("key"))))
		err = ierr
		if server.ErrorCode(ierr) == server.EUNAUTHORIZED {
			err = server.Errorf(server.EUNAUTHORIZED, "unknown API key (a rotated key no longer works)")
		} else if ierr == nil {
			subject = in.ID
		}
	default:
		err = server.Errorf(server.EINVALID, "choose how to sign in: as a practice or as an integrator")
	}
	if err == nil {
		err = c.startSession(w, r, role, subject, server.HashSecret(strings.TrimSpace(r.PostForm.Get("key"))))
	}
	// A failed sign-in as an existing site goes to that site's log too.
	var who *session
	if err == nil || (role == server.ConsolePractice && server.ErrorCode(err) == server.EUNAUTHORIZED && siteExists) {
		who = &session{role: role, subject: subject}
	}
	if err != nil {
		c.render(w, server.HTTPStatus[server.ErrorCode(err)], "sign-in", &view{Title: "Sign in", Error: server.ErrorMessage(err), Data: c.preToken(w, r)})
	}
	c.audit(r, start, "sign-in", who, cmp.Or(w.status, http.StatusOK), detail)
}

func cookieValue(r *http.Request, name string) string {
	if ck, err := r.Cookie(name); err == nil {
		return ck.Value
	}
	return ""
}

// linkView is the sign-in link page's data.
type linkView struct {
	Token, CSRF, Role, Name string
	Expires                 time.Time
}

// GET /console/link/{token}: says whom the link signs in, with a button.
// Looking does not use the link (mail scanners and previews open links),
// only the button does.
func (c *Console) linkPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	t, err := c.Store.ConsoleToken(r.Context(), server.HashConsoleToken(token), time.Now())
	if err == nil && !t.Link {
		err = server.Errorf(server.ENOTFOUND, "not a link")
	}
	if err != nil {
		c.fail(w, r, nil, linkGone(err))
		return
	}
	v := linkView{Token: token, CSRF: c.preToken(w, r), Role: t.Role, Expires: t.Expires}
	if v.Name, err = c.subjectName(r, t.Role, t.SubjectID); err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.render(w, http.StatusOK, "link", &view{Title: "Sign in with a link", Data: v})
}

func (c *Console) subjectName(r *http.Request, role, id string) (string, error) {
	if role == server.ConsolePractice {
		site, err := c.Store.Site(r.Context(), id)
		if err != nil {
			return "", err
		}
		return site.Name, nil
	}
	in, err := c.Store.Integrator(r.Context(), id)
	if err != nil {
		return "", err
	}
	return in.Name, nil
}

func linkGone(err error) error {
	if server.ErrorCode(err) == server.ENOTFOUND {
		return server.Errorf(server.ENOTFOUND, "this sign-in link is unknown, was used already or has expired: a link works once; ask the operator for a new one")
	}
	return err
}

// POST /console/link: uses the link (once) and signs its subject in.
func (c *Console) signInWithLink(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	err := readForm(w, r)
	var who *session
	if err == nil && !same(r.PostForm.Get("csrf"), cookieValue(r, preCookie)) {
		err = server.Errorf(server.EFORBIDDEN, "this page has expired: open the link again")
	}
	if err == nil {
		var t *server.ConsoleToken
		if t, err = c.Store.RedeemConsoleLink(r.Context(), server.HashConsoleToken(r.PostForm.Get("token")), time.Now()); err == nil {
			who = &session{role: t.Role, subject: t.SubjectID}
			err = c.startSession(w, r, t.Role, t.SubjectID, nil)
		}
	}
	if err != nil {
		c.fail(w, r, nil, linkGone(err))
	}
	c.audit(r, start, "sign-in-link", who, cmp.Or(w.status, http.StatusOK), "")
}

// POST /console/sign-out ends the session on the server.
func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) (string, error) {
	if err := c.Store.DeleteConsoleToken(r.Context(), server.HashConsoleToken(s.token)); err != nil {
		return "", err
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, Path+"/sign-in", http.StatusSeeOther)
	return "", nil
}
