package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/fhir"
	"fhirlink/server"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirexport"
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
// The job is a goroutine of the server's [bulk.Manager], apart from the
// kick-off request, one running per site (later ones queue, up to
// bulk.DefaultQueuedPerSite, then 429); what it exports and how is
// package fhirexport's.
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
// State is in the server's memory and the files in its export directory:
// one node. Jobs end when the server stops.

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

// exports is the server's export manager, made on first use.
func (s *Server) exports() *bulk.Manager {
	s.exportsOnce.Do(func() {
		if s.Exports == nil {
			s.Exports = &bulk.Manager{}
		}
	})
	return s.Exports
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
	reqID := server.RequestID(req.Context())
	run := func(ctx context.Context, out *bulk.Output) error {
		ended := s.Metrics.JobStarted(metrics.JobExport)
		// The export's queries go to the agent under the kick-off's id.
		err := exp.Run(server.WithRequestID(ctx, reqID), out)
		state := bulk.Completed
		if err != nil {
			state = bulk.Failed
		}
		ended(string(state))
		return err
	}
	id, err := s.exports().Start(bulk.Request{Owner: in.ID, SiteID: site.ID(), URL: s.publicBase(c) + req.URL.RequestURI(), Types: exp.Types()},
		run, func(ctx context.Context) (context.Context, func()) {
			return s.flights.Add(ctx, in.ID, site.ID())
		})
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
	st, err := s.exports().Poll(integrator(c).ID, c.Param("job"))
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
	if err := s.exports().Delete(integrator(c).ID, c.Param("job")); err != nil {
		return exportError(c, err)
	}
	return fhirJSON(c, http.StatusAccepted, fhir.Outcome(fhir.SeverityInformation, fhir.IssueInformational, "export cancelled; its files are deleted"))
}

// exportOwned checks, without counting as a poll, that the job is the
// caller's at this site.
func (s *Server) exportOwned(c echo.Context) (bulk.Request, error) {
	req, err := s.exports().Owned(integrator(c).ID, c.Param("job"))
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
	fh, f, err := s.exports().Open(integrator(c).ID, c.Param("job"), c.Param("file"))
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
	http.ServeContent(c.Response(), c.Request(), "", time.Time{}, fh)
	return nil
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
