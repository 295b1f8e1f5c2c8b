package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/fhir"
	"fhirlink/server"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirexport"
	"fhirlink/server/fhirsearch"
	"fhirlink/server/hub"
	"fhirlink/server/metrics"
	"fhirlink/server/quota"
)

// FHIR Bulk Data $export (Bulk Data Access IG v2).
//
//	GET  [base]/$export, [base]/Patient/$export      kick-off (Prefer: respond-async) → 202, Content-Location
//	GET  [base]/$export-status/{job}                 202 + X-Progress, Retry-After; 429 when polled too fast; 200 manifest
//	DELETE [base]/$export-status/{job}               cancels, removes the files → 202
//	GET  [base]/$export-file/{job}/{file}            an NDJSON file, streamed from disk
//
// The job runs in the background on whichever node claims it from the
// state store ([bulk.Manager]), one running per site (later ones queue, up
// to bulk.DefaultQueuedPerSite, then 429); what it exports and how is
// package fhirexport's. The kick-off's parameters are stored with the job,
// so any node can rebuild the export and resume it from its checkpoint
// when the node running it dies.
//
// Access: kick-off needs search (s) on every exported type for a token; a
// key has full access. Status and files are the kick-off integrator's
// only (another gets 404), with its key or any of its tokens; a file of
// resources needs s on its type again. Quotas: the kick-off is counted as
// one query (the quota middleware); polls and DELETE are not counted;
// downloads count their bytes (and are refused once the daily byte quota is
// used up). Every request is audited (interaction export, export-status,
// export-cancel, export-file).
//
// State is in the state store and the files in the result store (the
// async results' one), so every node answers status and downloads.

const (
	exportStatusSegment = "$export-status"
	exportFileSegment   = "$export-file"
)

// exportRoutes registers $export: the kick-off on f (the FHIR group:
// paired, quota counted), the status and files on g under the same base
// (paired, not counted as queries).
func (s *Server) exportRoutes(f, g *echo.Group) {
	f.GET("/$export", s.exportKickoff)
	f.GET("/Patient/$export", s.exportKickoff)
	base := "/sites/:siteId" + fhirBase + "/"
	g.GET(base+exportStatusSegment+"/:job", s.exportStatus, s.requirePairing)
	g.DELETE(base+exportStatusSegment+"/:job", s.exportCancel, s.requirePairing)
	g.GET(base+exportFileSegment+"/:job/:file", s.exportFile, s.requirePairing)
}

// exports is the server's export manager, made on first use: what is
// not set in Exports is filled from the server (its store, the result
// store, the shared buckets of the poll interval, the run function).
func (s *Server) exports() *bulk.Manager {
	s.exportsOnce.Do(func() {
		if s.Exports == nil {
			s.Exports = &bulk.Manager{}
		}
		m := s.Exports
		if m.Store == nil {
			m.Store = s.Store
		}
		if m.Results == nil {
			m.Results = s.Async.Results
		}
		if m.Logger == nil {
			m.Logger = s.log()
		}
		if m.PollTokens == nil {
			m.PollTokens = s.SharedRate
		}
		m.Run = s.runExport
		m.Wrap = func(ctx context.Context, req bulk.Request) (context.Context, func()) {
			return s.flights.Add(ctx, req.Owner, req.SiteID)
		}
	})
	return s.Exports
}

// exportSpec is what a node needs to rebuild an export: the kick-off's
// parameters.
type exportSpec struct {
	Query        url.Values `json:"query"`
	PatientLevel bool       `json:"patientLevel,omitempty"`
	Base         string     `json:"base"`
	// RequestID is the kick-off's: the export's queries go to the agent
	// under it, on whichever node runs them.
	RequestID string `json:"requestId,omitempty"`
}

// agentWait is how long a claimed export waits for its site's agent (it
// may be reconnecting to another node after its own died).
const agentWait = 2 * time.Minute

// runExport runs a stored export on this node: a [bulk.Func].
func (s *Server) runExport(ctx context.Context, req bulk.Request, out *bulk.Output) (err error) {
	ended := s.Metrics.JobStarted(metrics.JobExport)
	defer func() {
		state := bulk.Completed
		if err != nil {
			state = bulk.Failed
		}
		ended(string(state))
	}()
	var spec exportSpec
	if err := json.Unmarshal(req.Spec, &spec); err != nil {
		return err
	}
	ctx = server.WithRequestID(ctx, spec.RequestID)
	rec, err := s.Store.Site(ctx, req.SiteID)
	if err != nil {
		return err
	}
	m, ok := s.Mappings[rec.PMSType]
	if !ok {
		return fmt.Errorf("no FHIR mapping for %s", rec.PMSType)
	}
	var st hub.Status
	deadline := time.Now().Add(agentWait)
	for st = s.Hub.Status(req.SiteID); st.Availability != hub.Online; st = s.Hub.Status(req.SiteID) {
		if time.Now().After(deadline) {
			return server.Errorf(server.EUNAVAILABLE, "the practice's agent stayed %s", st.Availability)
		}
		out.Progress("waiting for the practice's agent")
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(time.Second):
		}
	}
	key, err := s.pagingKey(ctx, req.SiteID)
	if err != nil {
		return err
	}
	site, err := fhirsearch.New(fhirsearch.Config{Querier: s.Hub, SiteID: req.SiteID, Mapping: m,
		Engine: st.Info.Engine, TimeZone: st.Info.TimeZone, Base: spec.Base, Key: key})
	if err != nil {
		return err
	}
	exp, err := fhirexport.Parse(site, spec.Query, spec.PatientLevel, false, s.log())
	if err != nil {
		return err
	}
	return exp.Run(ctx, out)
}

// CloseExports cancels running exports and waits for them; the server
// calls it on shutdown.
func (s *Server) CloseExports() { s.exports().Close() }

// preferAsync reports Prefer: respond-async.
func preferAsync(r *http.Request) bool { return prefers(r, "respond-async") }

// GET [base]/$export and [base]/Patient/$export
func (s *Server) exportKickoff(c echo.Context) error {
	noteOf(c).interaction = "export"
	req := c.Request()
	if !preferAsync(req) {
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "$export runs asynchronously: send the header Prefer: respond-async")
	}
	site, err := s.fhirSite(c)
	if err != nil {
		return err
	}
	exp, err := fhirexport.Parse(site, c.QueryParams(), strings.HasSuffix(c.Path(), "/Patient/$export"), preferStrict(req), s.log())
	if err != nil {
		return err
	}
	for _, typ := range exp.Types() {
		if err := requireScope(c, typ, "s", "export "+typ); err != nil {
			return err
		}
	}
	in := integrator(c)
	patientLevel := strings.HasSuffix(c.Path(), "/Patient/$export")
	spec, err := json.Marshal(exportSpec{Query: c.QueryParams(), PatientLevel: patientLevel, Base: site.Base(),
		RequestID: server.RequestID(req.Context())})
	if err != nil {
		return err
	}
	id, err := s.exports().Start(req.Context(), bulk.Request{Owner: in.ID, SiteID: site.ID(), URL: s.publicBase(c) + req.URL.RequestURI(),
		Types: exp.Types(), Spec: spec})
	switch {
	case errors.Is(err, bulk.ErrBusy):
		retryAfter(c, time.Minute)
		return fhir.Errorf(http.StatusTooManyRequests, fhir.IssueThrottled, "this practice already has %d exports queued or running; retry later, or cancel one with DELETE on its status URL", bulk.DefaultQueuedPerSite)
	case errors.Is(err, bulk.ErrClosed):
		return fhir.Errorf(http.StatusServiceUnavailable, fhir.IssueTransient, "the server is shutting down; retry later")
	case err != nil:
		return err
	}
	s.Metrics.JobQueued(metrics.JobExport)
	c.Response().Header().Set("Content-Location", site.Base()+"/"+exportStatusSegment+"/"+id)
	return fhirJSON(c, http.StatusAccepted, fhir.Outcome(fhir.SeverityInformation, fhir.IssueInformational,
		"export accepted; poll the Content-Location for its status"))
}

// exportJobOf returns the caller's job named in the URL, at this site.
func (s *Server) exportJobOf(c echo.Context) (*bulk.Status, error) {
	st, err := s.exports().Poll(c.Request().Context(), integrator(c).ID, c.Param("job"))
	if err == nil && st.Request.SiteID != site(c).ID {
		err = bulk.ErrNotFound
	}
	return st, exportError(c, err)
}

func exportError(c echo.Context, err error) error {
	if pe, ok := errors.AsType[*bulk.PollError](err); ok {
		secs := retryAfter(c, pe.Wait)
		return fhir.Errorf(http.StatusTooManyRequests, fhir.IssueThrottled, "polled too soon; wait %d s (Retry-After) between status requests", secs)
	}
	if errors.Is(err, bulk.ErrNotFound) {
		return fhir.Errorf(http.StatusNotFound, fhir.IssueNotFound, "no such export: it was never started by you at this practice, was cancelled or has expired")
	}
	return err
}

// exportManifest is the completed export's manifest.
type exportManifest struct {
	TransactionTime     string         `json:"transactionTime"`
	Request             string         `json:"request"`
	RequiresAccessToken bool           `json:"requiresAccessToken"`
	Output              []manifestFile `json:"output"`
	Error               []manifestFile `json:"error"`
}

type manifestFile struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int64  `json:"count"`
}

// GET [base]/$export-status/{job}
func (s *Server) exportStatus(c echo.Context) error {
	noteOf(c).interaction = "export-status"
	st, err := s.exportJobOf(c)
	if err != nil {
		return err
	}
	switch st.State {
	case bulk.Queued, bulk.Running:
		h := c.Response().Header()
		h.Set("X-Progress", st.Progress)
		h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(s.exports().PollInterval.Seconds())))))
		return c.NoContent(http.StatusAccepted)
	case bulk.Failed:
		return fhir.Errorf(http.StatusInternalServerError, fhir.IssueException, "the export failed (%v); start it again", st.Err)
	}
	base := s.fhirBaseURL(c, st.Request.SiteID) + "/" + exportFileSegment + "/" + st.ID + "/"
	m := exportManifest{TransactionTime: st.TransactionTime.UTC().Format(time.RFC3339Nano), Request: st.Request.URL,
		RequiresAccessToken: true, Output: []manifestFile{}, Error: []manifestFile{}}
	for _, f := range st.Output {
		m.Output = append(m.Output, manifestFile{Type: f.Type, URL: base + f.Name, Count: f.Count})
	}
	for _, f := range st.Errors {
		m.Error = append(m.Error, manifestFile{Type: f.Type, URL: base + f.Name, Count: f.Count})
	}
	c.Response().Header().Set("Expires", st.ExpiresAt.UTC().Format(http.TimeFormat))
	return c.JSON(http.StatusOK, m)
}

// DELETE [base]/$export-status/{job}
func (s *Server) exportCancel(c echo.Context) error {
	noteOf(c).interaction = "export-cancel"
	if _, err := s.exportOwned(c); err != nil {
		return err
	}
	if err := s.exports().Delete(c.Request().Context(), integrator(c).ID, c.Param("job")); err != nil {
		return exportError(c, err)
	}
	return fhirJSON(c, http.StatusAccepted, fhir.Outcome(fhir.SeverityInformation, fhir.IssueInformational, "export cancelled; its files are deleted"))
}

// exportOwned checks, without counting as a poll, that the job is the
// caller's at this site.
func (s *Server) exportOwned(c echo.Context) (bulk.Request, error) {
	req, err := s.exports().Owned(c.Request().Context(), integrator(c).ID, c.Param("job"))
	if err == nil && req.SiteID != site(c).ID {
		err = bulk.ErrNotFound
	}
	return req, exportError(c, err)
}

// GET [base]/$export-file/{job}/{file}
func (s *Server) exportFile(c echo.Context) error {
	n := noteOf(c)
	n.interaction = "export-file"
	if _, err := s.exportOwned(c); err != nil {
		return err
	}
	if a := c.Request().Header.Get("Accept"); a != "" && !strings.Contains(a, "ndjson") && !strings.Contains(a, "*/*") {
		return fhir.Errorf(http.StatusNotAcceptable, fhir.IssueNotSupported, "export files are application/fhir+ndjson; accept that")
	}
	fh, f, err := s.exports().Open(c.Request().Context(), integrator(c).ID, c.Param("job"), c.Param("file"))
	if err != nil {
		return exportError(c, err)
	}
	defer fh.Close()
	if f.Type != "OperationOutcome" {
		if err := requireScope(c, f.Type, "s", "download "+f.Type+" resources"); err != nil {
			return err
		}
	}
	if err := s.byteQuota(c); err != nil {
		return err
	}
	// The bytes sent count towards the daily byte quota; the export was
	// counted as a query at kick-off.
	n.countable, n.counted = true, true
	n.rows = f.Count
	c.Response().Header().Set("Content-Type", "application/fhir+ndjson")
	if rs, ok := fh.(io.ReadSeeker); ok { // a file: ranges are served
		http.ServeContent(c.Response(), c.Request(), "", time.Time{}, rs)
		return nil
	}
	c.Response().Header().Set("Content-Length", strconv.FormatInt(f.Bytes, 10))
	c.Response().WriteHeader(http.StatusOK)
	_, err = io.Copy(c.Response(), fh)
	return err
}

// byteQuota refuses a download once the integrator's daily byte quota at
// the site is used up.
func (s *Server) byteQuota(c echo.Context) error {
	ctx := c.Request().Context()
	in, st := integrator(c), site(c)
	overrides, err := s.Store.Quotas(ctx, in.ID)
	if err != nil {
		return err
	}
	_, maxB := server.EffectiveQuota(overrides, st.ID, s.Limits.DailyQueries, s.Limits.DailyBytes)
	if maxB <= 0 {
		return nil
	}
	now := time.Now()
	day := server.UsageDay(now)
	us, err := s.Store.Usage(ctx, in.ID, st.ID, day, day)
	if err != nil {
		return err
	}
	var used int64
	for _, u := range us {
		used += u.Bytes
	}
	if used >= maxB {
		secs := retryAfter(c, quota.UntilReset(now))
		return server.Errorf(server.ERATELIMIT, "the daily data quota (%d bytes) at this site is used up for today (UTC); it resets at 00:00 UTC, in %d s", maxB, secs)
	}
	return nil
}
