package api

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/auth"
	"fhirlink/server/hub"
)

// Writes: the guarantees every write of the integrator API gets, whether a
// passthrough nonQuery or storedProcedure command (immediate or async) or
// a FHIR create, update or patch.
//
//  1. Consent: the practice's agent allows writes (--allow-writes) and the
//     practice granted this integrator writes ('fhirlink agent
//     grant-writes'); the agent enforces both again on its own record.
//  2. Scope: a SMART token carries the write scope (system/passthrough.cud
//     for passthrough; system/<Type>.c to create, .u to update or patch).
//  3. Exactly once: an Idempotency-Key header binds the request to the
//     key for a day (see [server.IdempotencyKeyTTL]); a repeat is answered
//     with the first answer and never runs again.
//  4. Audit: the record says what the write named and what came of it.
//
// A FHIR write route gets all four by one middleware, [Server.writeGuard];
// a passthrough route, which learns from the body whether it writes, calls
// [Server.checkWrite] and [Server.idempotent] itself.

// IdempotencyKeyHeader is the request header carrying a write's
// idempotency key; a replayed answer carries [IdempotentReplayedHeader]:
// true.
const (
	IdempotencyKeyHeader     = "Idempotency-Key"
	IdempotentReplayedHeader = "Idempotent-Replayed"
)

// writeBound bounds a write detached from its caller (see idempotent):
// well past the longest an immediate write runs and waits for its agent.
const writeBound = 10 * time.Minute

// WriteDenial is nil when integratorID may write at siteID now, else the
// [server.EFORBIDDEN] error naming what is missing, the first of: agent
// writes disabled (as the site's connected agent reports it; an offline
// site is not refused for it, its agent refuses on its own), no write
// grant for this integrator, or the pairing itself. The FHIR
// CapabilityStatement asks it to advertise writes only where they work.
func (s *Server) WriteDenial(ctx context.Context, integratorID, siteID string) error {
	return s.writeDenial(ctx, integratorID, siteID, s.Hub.Status(siteID))
}

// writeDenial is [Server.WriteDenial] given the site's status, which in a
// cluster may cost a round trip to the node holding its agent.
func (s *Server) writeDenial(ctx context.Context, integratorID, siteID string, st hub.Status) error {
	acc, err := s.Store.Access(ctx, integratorID, siteID)
	if err != nil {
		return err
	}
	if err := acc.Denial(siteID); err != nil {
		return err
	}
	// What the connected agent reports; an offline site is not refused
	// for it (its agent refuses on its own when it comes).
	return acc.WriteDenial(siteID, st.Availability != hub.Online || st.Info.AllowWrites)
}

// checkWrite refuses a write at the request's site that the token's scope
// (scope, the error of its check), the agent or the practice's grant does
// not allow, and notes the request as a write for the audit.
func (s *Server) checkWrite(c echo.Context, scope error) error {
	n := noteOf(c)
	n.write = true
	err := scope
	if err == nil {
		err = s.WriteDenial(c.Request().Context(), integrator(c).ID, site(c).ID)
	}
	if err != nil {
		n.outcome = server.WriteRefused
	}
	return err
}

// requireWriteScope checks that a token has the SMART scope of a FHIR write
// of resourceType: system/<Type>.c for create, .u for update and patch (v2
// letters, combined or not, or v1 .write).
func requireWriteScope(c echo.Context, resourceType, interaction string) error {
	perms := "u"
	if interaction == "create" {
		perms = "c"
	}
	return requireScope(c, resourceType, perms, interaction+" "+resourceType)
}

// ctxWriteBody holds a FHIR write's request body, read once by
// [Server.writeGuard] (it fingerprints it for the Idempotency-Key) for the
// handler.
const ctxWriteBody = "fhirlink.writeBody"

// writeGuard is the middleware of a FHIR write route: interaction
// (create, update, patch) of resourceType. It checks the scope, the
// agent's writes and the practice's grant, then runs the route under the
// request's Idempotency-Key. The handler sends its write with
// [server.ExecutionID] of its request's context and notes what the body
// names with auditTargets.
func (s *Server) writeGuard(resourceType, interaction string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := s.checkWrite(c, requireWriteScope(c, resourceType, interaction)); err != nil {
				return err
			}
			body, err := readBody(c)
			if err != nil {
				return err
			}
			c.Set(ctxWriteBody, body)
			noteOf(c).interaction = interaction
			auditTargets(c, bodyTargets(body)...)
			return s.idempotent(c, body, next)
		}
	}
}

// bodyTargets are the resources a FHIR write's body names: the resource
// itself (Type/id, when it has an id) and every reference in it, at any
// depth (an Appointment's patient and practitioner, a $book Parameters'
// Slot), each once, in a fixed order (members by name, arrays in order).
// A body that is not JSON names none.
func bodyTargets(body []byte) []string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(ref string) {
		if ref != "" && !seen[ref] {
			seen[ref] = true
			out = append(out, ref)
		}
	}
	if m, ok := v.(map[string]any); ok {
		if typ, _ := m["resourceType"].(string); typ != "" {
			if id, _ := m["id"].(string); id != "" {
				add(typ + "/" + id)
			}
		}
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["reference"].(string); ok {
				add(ref)
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k])
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// auditTargets notes what a write names, for the audit record: the ids of
// the resources in a FHIR request's body (Appointment/1 Patient/2 ...), or
// a stored procedure's name.
func auditTargets(c echo.Context, targets ...string) {
	noteOf(c).targets = truncate(strings.Join(targets, " "), 1024)
}

// keptHeaders are the headers of a write's answer replayed with it.
var keptHeaders = []string{"Content-Type", "Location", "Content-Location", "ETag", "Last-Modified", "Fhirlink-Query-Id"}

// idempotent runs the write run (body is the request's) under the request's
// Idempotency-Key, if it has one (see [server.IdempotencyStore]):
//
//   - a new key is recorded with the request's fingerprint, run runs
//     under the execution id derived from both, detached from the caller
//     (a caller that goes away does not cancel the write: its retry gets
//     the answer), and its answer is stored unless it may change on a
//     retry (a 5xx, a refusal 401/403/429): the key then stays without an
//     answer and a retry runs again, under the same execution id;
//   - a key with an answer replays it, marked Idempotent-Replayed;
//   - a key of another request is refused with 422;
//   - a key without an answer yet (a concurrent retry, or a server that
//     died running it) runs again: the agent runs the write at most once
//     under the execution id and answers the repeat with its first run's
//     outcome, waiting for the first run if it still runs.
//
// Every later repeat gets the first answer stored.
func (s *Server) idempotent(c echo.Context, body []byte, run echo.HandlerFunc) error {
	req := c.Request()
	key := req.Header.Get(IdempotencyKeyHeader)
	if key == "" {
		return run(c)
	}
	if err := server.CheckIdempotencyKey(key); err != nil {
		return err
	}
	if wantsNDJSON(req) {
		return server.Errorf(server.EINVALID, "an %s write is answered as JSON, to be replayed whole: do not ask for NDJSON", IdempotencyKeyHeader)
	}
	integ := integrator(c)
	fp := server.RequestFingerprint(req.Method, req.URL.Path, body)
	now := time.Now().UTC()
	rec, claimed, err := s.Store.ClaimIdempotencyKey(req.Context(), &server.IdempotencyKey{
		IntegratorID: integ.ID, Key: key, Fingerprint: fp, CreatedAt: now, ExpiresAt: now.Add(server.IdempotencyKeyTTL)})
	if err != nil {
		return err
	}
	switch {
	case !bytes.Equal(rec.Fingerprint, fp):
		return server.Errorf(server.EUNPROCESSABLE, "%s %q was first used at %s for another request (its method, path or body differ): a key names one write; use a new key for a new write",
			IdempotencyKeyHeader, key, rec.CreatedAt.Format(time.RFC3339))
	case rec.Response != nil:
		noteOf(c).outcome = server.WriteReplayed
		return replayAnswer(c, rec.Response)
	case !claimed:
		s.log().Info("write repeated before its first answer: run again under the same execution id", "integrator", integ.ID, "key", key)
	}

	ctx, cancel := context.WithTimeout(context.WithoutCancel(req.Context()), writeBound)
	defer cancel()
	c.SetRequest(req.WithContext(server.WithExecutionID(ctx, server.ExecutionIDFor(integ.ID, key, fp))))
	resp := c.Response()
	orig := resp.Writer
	capture := &captured{header: orig.Header()}
	resp.Writer = capture
	if err := run(c); err != nil {
		c.Error(err)
	}
	resp.Writer, resp.Committed, resp.Size = orig, false, 0
	if capture.status == 0 {
		return nil // nothing was answered (the handler saw its caller gone): nothing to keep
	}
	answer := &server.IdempotentResponse{Status: capture.status, Body: capture.body.Bytes(), Header: map[string]string{}}
	for _, h := range keptHeaders {
		if v := orig.Header().Get(h); v != "" {
			answer.Header[h] = v
		}
	}
	if final(answer.Status) {
		first, err := s.Store.CompleteIdempotencyKey(ctx, integ.ID, key, answer)
		if err != nil {
			s.log().Error("idempotency key: the answer could not be stored; a retry runs the write again under its execution id", "key", key, "err", err)
		} else if first.Status != answer.Status || !bytes.Equal(first.Body, answer.Body) {
			// A concurrent run stored its answer first: every repeat gets it.
			noteOf(c).outcome = server.WriteReplayed
			return replayAnswer(c, first)
		}
	}
	// The caller may be gone: the answer waits in the store for its retry.
	resp.WriteHeader(answer.Status)
	resp.Write(answer.Body)
	return nil
}

// final reports whether an answer of this status is kept for replay: not
// a failure that a retry may get past (a 5xx: the agent or its tunnel was
// away), nor a refusal that the practice or the operator may lift.
func final(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return status < 500
}

// replayAnswer writes a stored answer again.
func replayAnswer(c echo.Context, a *server.IdempotentResponse) error {
	h := c.Response().Header()
	for k, v := range a.Header {
		h.Set(k, v)
	}
	h.Set(IdempotentReplayedHeader, "true")
	c.Response().WriteHeader(a.Status)
	_, err := c.Response().Write(a.Body)
	return err
}

// captured is a response writer keeping the answer instead of sending it;
// its header is the real response's.
type captured struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *captured) Header() http.Header { return w.header }
func (w *captured) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}
func (w *captured) Flush() {} // the answer goes out whole, once kept

func (w *captured) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// passthroughWrite checks a passthrough write q and notes it for the
// audit: its scope, the agent's writes and the practice's grant.
func (s *Server) passthroughWrite(c echo.Context, q *wire.QueryRequest) error {
	if q.Type == wire.CommandStoredProcedure {
		auditTargets(c, q.Text)
	}
	if err := s.checkWrite(c, requireScope(c, auth.Passthrough, "cud", "run nonQuery or storedProcedure commands")); err != nil {
		return err
	}
	q.IntegratorID = integrator(c).ID
	return nil
}

// purgeIdempotencyKeys deletes expired idempotency keys hourly until ctx
// is done (an expired key is never answered, only its room is taken).
func (s *Server) purgeIdempotencyKeys(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if n, err := s.Store.PurgeIdempotencyKeys(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log().Error("idempotency keys: purge failed", "err", err)
		} else if n > 0 {
			s.log().Info("idempotency keys purged", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
