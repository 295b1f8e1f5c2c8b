package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/server"
	"fhirlink/server/bulk"
	"fhirlink/server/quota"
)

// FHIR Bulk Data $export (Bulk Data Access IG v2).
//
//	GET  [base]/$export, [base]/Patient/$export      kick-off (Prefer: respond-async) → 202, Content-Location
//	GET  [base]/$export-status/{job}                 202 + X-Progress, Retry-After; 429 when polled too fast; 200 manifest
//	DELETE [base]/$export-status/{job}               cancels, removes the files → 202
//	GET  [base]/$export-file/{job}/{file}            an NDJSON file, streamed from disk
//
// How it runs: the job is a goroutine of the server's [bulk.Manager], apart
// from the kick-off request, one running per site (later ones queue, up to
// bulk.DefaultQueuedPerSite, then 429). It exports type after type, each
// normally in one long query of priority bulk (the agent never gives bulk
// work the last execution slot, so interactive searches go on), sorted by
// _id, with no byte cap: its rows stream through the tunnel (yamux flow
// control) and go one at a time through the mapping into the type's
// NDJSON file, so nothing holds more than one row and memory does not grow
// with the practice. When the query is cut midway (its deadline, the
// tunnel, the database going away) the type resumes after the last row
// written, using the mapping's keyset cursor; a query failing before its
// first row is retried with backoff. Why not pages of 1,000 as searches
// do: the mappings' union types (Observation) re-sort the whole union for
// every keyset page, so paging costs O(n²) on the practice server (96 s for
// the 95,000 observations of a 10,000-patient practice in pages of 1,000,
// against 14 s in one query); the keyset is kept for resuming.
//
// What is exported is what a search without parameters finds, page after
// page: the mapping's default filters apply (Bp Premier: active patients
// and practitioners), as for GET [base]/Patient. A type that cannot be
// searched without parameters (Slot, a grid computed for a date range) is
// not exportable: left out by default, refused in _type.
//
// An export with a Patient file is self-contained: every patient that an
// exported resource refers to is in the Patient file, once. Patients the
// search does not find (inactive, deceased, or unchanged since _since) are
// read by _id after the last type and appended to the Patient file; a
// referenced patient that is no longer a live record is named in the error
// file. Without Patient in _type there is no Patient file to complete.
//
// _since: resources whose meta.lastUpdated is at or after it (inclusive,
// so nothing changed at that instant is missed). When the mapping declares
// _lastUpdated for a type (mappings.LastUpdatedParam; every Bp Premier type
// with audit columns does) the filter is applied in SQL, so the practice
// server reads only what changed; every type is also filtered on the server
// on meta.lastUpdated, so a mapping without it gives the same result, at
// the cost of reading everything. As with _lastUpdated, a resource without
// meta.lastUpdated (the PMS recorded no time for the row) is left out of a
// _since export: it is in the full export, and nothing says it changed.
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

// Export limits. A chunk is one query; exportChunkRows is large enough
// that a type is normally read in one query, and bounds nothing in memory
// (rows stream).
const (
	exportChunkRows     = 1_000_000
	exportChunkTimeout  = 30 * time.Minute
	exportMaxTimeInQ    = 10 * time.Minute
	exportMaxChunks     = 100_000
	exportRetries       = 3
	exportMaxResumes    = 20
	exportStatusSegment = "$export-status"
	exportFileSegment   = "$export-file"
)

// ndjsonFormats are the _outputFormat values accepted.
var ndjsonFormats = []string{"application/fhir+ndjson", "application/ndjson", "ndjson"}

// exportParams are the kick-off parameters understood (_format is the
// HTTP layer's).
var exportParams = []string{"_type", "_since", "_outputFormat", "_format"}

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
func preferAsync(r *http.Request) bool {
	for _, v := range r.Header.Values("Prefer") {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), "respond-async") {
				return true
			}
		}
	}
	return false
}

// exportable reports whether res can be searched without parameters.
func exportable(fs *fhirSite, res mappings.Resource) bool {
	_, err := res.Search(fs.dialect, &fhir.Search{Type: res.Decl().Type, Count: 1, Sort: []fhir.SortKey{{Name: "_id"}}})
	return err == nil
}

// inPatientCompartment reports whether a type is Patient or refers to a
// patient through a patient parameter.
func inPatientCompartment(res mappings.Resource) bool {
	d := res.Decl()
	if d.Type == "Patient" {
		return true
	}
	p, ok := d.Param("patient")
	return ok && p.Type == fhir.TypeReference && slices.Contains(p.Targets, "Patient")
}

// GET [base]/$export and [base]/Patient/$export
func (s *Server) exportKickoff(c echo.Context) error {
	noteOf(c).interaction = "export"
	req := c.Request()
	if !preferAsync(req) {
		return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "$export runs asynchronously: send the header Prefer: respond-async")
	}
	fs, err := s.prepare(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	var warnings []string
	for name := range q {
		if !slices.Contains(exportParams, name) {
			if preferStrict(req) {
				return fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "$export does not support the parameter %s (Prefer: handling=strict); it supports _type, _since and _outputFormat", name)
			}
			warnings = append(warnings, fmt.Sprintf("the parameter %s is not supported and was ignored; $export supports _type, _since and _outputFormat", name))
		}
	}
	slices.Sort(warnings)
	if f := q.Get("_outputFormat"); f != "" {
		// An unescaped "+" in a query string decodes to a space.
		if !slices.Contains(ndjsonFormats, strings.ReplaceAll(strings.TrimSpace(f), " ", "+")) {
			return fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_outputFormat %q is not supported; use application/fhir+ndjson", f)
		}
	}
	patientLevel := strings.HasSuffix(c.Path(), "/Patient/$export")
	var level []mappings.Resource
	for _, r := range fs.mapping.Resources {
		if exportable(fs, r) && (!patientLevel || inPatientCompartment(r)) {
			level = append(level, r)
		}
	}
	types := level
	if raw, ok := q["_type"]; ok {
		types = nil
		for _, v := range raw {
			for name := range strings.SplitSeq(v, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				res, ok := fs.mapping.Resource(name)
				switch {
				case !ok:
					return fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_type: %s is not supported here; see the CapabilityStatement at %s/metadata", name, fs.base)
				case !exportable(fs, res):
					return fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_type: %s cannot be exported: it can only be searched with parameters; search it instead", name)
				case !slices.Contains(level, res):
					return fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_type: %s is not in the patient compartment; export it with the system-level %s/$export", name, fs.base)
				}
				if !slices.Contains(types, res) {
					types = append(types, res)
				}
			}
		}
		if len(types) == 0 {
			return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "_type is empty; name resource types, e.g. _type=Patient,Condition, or leave it out for every type")
		}
	}
	for _, r := range types {
		if err := requireScope(c, r.Decl().Type, "s", "export "+r.Decl().Type); err != nil {
			return err
		}
	}
	var since *time.Time
	if v := q.Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "_since %q is not a FHIR instant; use e.g. 2024-05-01T00:00:00Z or 2024-05-01T10:00:00+10:00", v)
		}
		since = &t
	}
	in := integrator(c)
	job := &exportJob{s: s, fs: fs, types: types, since: since, warnings: warnings}
	id, err := s.exports().Start(bulk.Request{Owner: in.ID, SiteID: fs.site.ID, URL: s.publicBase(c) + req.URL.RequestURI(), Types: typeNames(types)},
		job.run, func(ctx context.Context) (context.Context, func()) {
			return s.flights.Add(ctx, in.ID, fs.site.ID)
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
	c.Response().Header().Set("Content-Location", fs.base+"/"+exportStatusSegment+"/"+id)
	return fhirJSON(c, http.StatusAccepted, fhir.Outcome(fhir.SeverityInformation, fhir.IssueInformational,
		"export accepted; poll the Content-Location for its status"))
}

func typeNames(rs []mappings.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Decl().Type
	}
	return out
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
	base := s.publicBase(c) + "/integrator/sites/" + st.Request.SiteID + fhirBase + "/" + exportFileSegment + "/" + st.ID + "/"
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

// exportJob is one export's work.
type exportJob struct {
	s        *Server
	fs       *fhirSite
	types    []mappings.Resource
	since    *time.Time
	warnings []string
	// patients, when the export has a Patient file, keeps it
	// self-contained (patientSet).
	patients *patientSet
}

// patientSet is what makes an export with a Patient file self-contained:
// the ids written to that file and those referenced by any exported
// resource. The Patient pass writes what a search finds (active patients,
// changed since _since); other resources also refer to inactive and
// deceased patients, and to patients unchanged since _since, and those are
// added to the Patient file at the end, each once. Only ids are kept, never
// resources: a few bytes per patient of the practice.
type patientSet struct {
	written    map[string]struct{}
	referenced map[string]struct{}
}

// note records what one exported resource of type typ brings to the set.
func (ps *patientSet) note(typ string, resource []byte) {
	if typ == "Patient" {
		if id := resourceID(resource); id != "" {
			ps.written[id] = struct{}{}
		}
	}
	patientRefs(resource, func(id string) { ps.referenced[id] = struct{}{} })
}

// missing are the referenced patients not written, in id order.
func (ps *patientSet) missing() []string {
	var out []string
	for id := range ps.referenced {
		if _, ok := ps.written[id]; !ok {
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) { // numeric ids: shorter is smaller
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return out
}

// patientRefs calls fn with the id of every relative Patient reference in
// a resource's JSON ("reference":"Patient/12"), the only form the mappings
// write, without decoding the resource.
func patientRefs(resource []byte, fn func(id string)) {
	const key = `"reference":"Patient/`
	for {
		i := bytes.Index(resource, []byte(key))
		if i < 0 {
			return
		}
		resource = resource[i+len(key):]
		end := bytes.IndexByte(resource, '"')
		if end < 0 {
			return
		}
		if id := resource[:end]; len(id) > 0 && bytes.IndexByte(id, '/') < 0 {
			fn(string(id))
		}
		resource = resource[end:]
	}
}

func (j *exportJob) run(ctx context.Context, out *bulk.Output) error {
	for _, w := range j.warnings {
		if err := out.Error(fhir.Outcome(fhir.SeverityWarning, fhir.IssueNotSupported, w)); err != nil {
			return err
		}
	}
	var patientRes mappings.Resource
	for _, res := range j.types {
		if res.Decl().Type == "Patient" {
			patientRes = res
			j.patients = &patientSet{written: map[string]struct{}{}, referenced: map[string]struct{}{}}
		}
	}
	var total int64
	for i, res := range j.types {
		typ := res.Decl().Type
		out.Progress(fmt.Sprintf("exporting %s (type %d of %d); %d resources written", typ, i+1, len(j.types), total))
		began := time.Now()
		n, err := j.exportType(ctx, res, out, func(n int64) {
			out.Progress(fmt.Sprintf("exporting %s (type %d of %d); %d resources written", typ, i+1, len(j.types), total+n))
		})
		total += n
		j.s.log().Info("export: type done", "site", j.fs.site.ID, "type", typ, "resources", n, "ms", time.Since(began).Milliseconds())
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err != nil {
			if _, ok := errors.AsType[*bulk.WriteError](err); ok {
				return err
			}
			j.s.log().Error("export: type failed", "site", j.fs.site.ID, "type", typ, "written", n, "err", err)
			msg := fmt.Sprintf("%s: the export of this type stopped after %d resources: %s. Export it again (_type=%s).", typ, n, exportFailure(err), typ)
			if werr := out.Error(fhir.Outcome(fhir.SeverityError, fhir.IssueException, msg)); werr != nil {
				return werr
			}
		}
	}
	if j.patients != nil {
		return j.referencedPatients(ctx, patientRes, out, total)
	}
	return nil
}

// exportRefChunk is how many patient ids one query of referencedPatients
// binds (SQL Server takes at most 2,100 parameters).
const exportRefChunk = 200

// referencedPatients adds to the Patient file the patients the export
// refers to that it has not written, read by _id (which finds inactive
// and deceased patients too, whatever _since says). A referenced patient
// the practice database no longer has as a live record is reported in the
// error file, as the reference cannot be resolved.
func (j *exportJob) referencedPatients(ctx context.Context, res mappings.Resource, out *bulk.Output, total int64) error {
	missing := j.patients.missing()
	if len(missing) == 0 {
		return nil
	}
	out.Progress(fmt.Sprintf("exporting %d referenced patients; %d resources written", len(missing), total))
	idParam, ok := res.Decl().Param("_id")
	if !ok {
		return errors.New("export: Patient has no _id parameter")
	}
	var added int64
	for chunk := range slices.Chunk(missing, exportRefChunk) {
		c := fhir.Clause{Param: idParam}
		for _, id := range chunk {
			c.Values = append(c.Values, fhir.Value{Code: id})
		}
		search := &fhir.Search{Type: "Patient", Count: len(chunk), Sort: []fhir.SortKey{{Name: "_id"}}, Clauses: []fhir.Clause{c}}
		var n int64
		var err error
		for attempt := 0; ; attempt++ {
			_, n, _, err = j.chunk(ctx, res, search, out, nil, false)
			if err == nil || n > 0 || !transient(err) || attempt == exportRetries || ctx.Err() != nil {
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(2<<attempt) * time.Second):
			}
		}
		added += n
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err != nil {
			if _, ok := errors.AsType[*bulk.WriteError](err); ok {
				return err
			}
			j.s.log().Error("export: referenced patients failed", "site", j.fs.site.ID, "written", added, "err", err)
			msg := fmt.Sprintf("Patient: %d patients referenced by exported resources could not be added to the Patient file: %s. Export again.", len(missing)-int(added), exportFailure(err))
			return out.Error(fhir.Outcome(fhir.SeverityError, fhir.IssueException, msg))
		}
	}
	j.s.log().Info("export: referenced patients added", "site", j.fs.site.ID, "referenced", len(missing), "added", added)
	var gone []string
	for _, id := range missing {
		if _, ok := j.patients.written[id]; !ok {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	shown := gone[:min(len(gone), 20)]
	msg := fmt.Sprintf("Patient: %d patients referenced by exported resources are not live records of the practice and are not in the export: Patient/%s",
		len(gone), strings.Join(shown, ", Patient/"))
	if len(shown) < len(gone) {
		msg += ", ..."
	}
	return out.Error(fhir.Outcome(fhir.SeverityWarning, fhir.IssueNotFound, msg))
}

// exportFailure says what went wrong with a type, for the error file.
func exportFailure(err error) string {
	if werr, ok := errors.AsType[*wire.Error](err); ok {
		switch werr.Kind {
		case wire.KindTimeout:
			return "the practice database did not answer in time"
		case wire.KindExpiredInQueue, wire.KindUnavailable:
			return "the practice database was busy or unavailable"
		}
		return "the practice database failed the query"
	}
	if server.ErrorCode(err) == server.EUNAVAILABLE {
		return "the practice's agent was unreachable"
	}
	return "an internal error"
}

// transient reports an error worth retrying a chunk for (it failed before
// its first row).
func transient(err error) bool {
	if werr, ok := errors.AsType[*wire.Error](err); ok {
		return werr.Kind == wire.KindExpiredInQueue || werr.Kind == wire.KindUnavailable
	}
	return server.ErrorCode(err) == server.EUNAVAILABLE
}

// exportType writes every resource of res (changed since j.since) and
// returns how many.
func (j *exportJob) exportType(ctx context.Context, res mappings.Resource, out *bulk.Output, progress func(int64)) (written int64, err error) {
	decl := res.Decl()
	search := &fhir.Search{Type: decl.Type, Count: exportChunkRows, Sort: []fhir.SortKey{{Name: "_id"}}}
	if j.since != nil {
		if _, ok := decl.Param("_lastUpdated"); ok {
			ps, err := fhir.ParseSearch(decl, url.Values{"_lastUpdated": {"ge" + j.since.Format(time.RFC3339Nano)}},
				fhir.ParseOptions{Strict: true, Location: j.fs.ctx.Location})
			if err != nil {
				return 0, err
			}
			search.Clauses = ps.Clauses
		}
	}
	var last []byte
	retries, resumes := 0, 0
	for range exportMaxChunks {
		more, n, lastRow, err := j.chunk(ctx, res, search, out, last, true)
		written, last = written+n, lastRow
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return written, ctx.Err()
			case n > 0 && resumable(err) && resumes < exportMaxResumes:
				// Interrupted after progress: go on after the last row.
				resumes++
				more = true
			case n == 0 && transient(err) && retries < exportRetries:
				retries++
				select {
				case <-ctx.Done():
					return written, ctx.Err()
				case <-time.After(time.Duration(1<<retries) * time.Second):
				}
				continue
			default:
				return written, err
			}
		}
		progress(written)
		if !more {
			return written, nil
		}
		if search.After, err = res.Cursor(last); err != nil {
			return written, err
		}
	}
	return written, fmt.Errorf("export: %s has more than %d chunks", decl.Type, exportMaxChunks)
}

// chunk exports one chunk of search, one query streaming up to
// search.Count rows (the extra row only tells that there is more). last
// is the last row read, reused; it stays right when the query fails
// midway, so the next chunk resumes after it. since applies _since to
// the rows (the referenced patients are exported whatever it says).
func (j *exportJob) chunk(ctx context.Context, res mappings.Resource, search *fhir.Search, out *bulk.Output, last []byte, since bool) (more bool, written int64, lastOut []byte, err error) {
	q, err := res.Search(j.fs.dialect, search)
	if err != nil {
		return false, 0, last, err
	}
	rows, err := j.s.Hub.Query(ctx, j.fs.site.ID, wire.QueryRequest{
		Text: q.SQL, Params: q.Params, Mode: wire.ModeReader, Type: wire.CommandText,
		Priority: wire.PriorityBulk, MaxTimeInQueueMS: exportMaxTimeInQ.Milliseconds(),
		TimeoutMS: exportChunkTimeout.Milliseconds(), MaxBytes: 0,
	})
	if err != nil {
		return false, 0, last, err
	}
	defer rows.Close()
	typ := res.Decl().Type
	read := 0
	for rows.Next() {
		if read == search.Count {
			return true, written, last, nil
		}
		read++
		row := rows.Row()
		r, err := res.Row(row, j.fs.ctx)
		if err != nil {
			return false, written, last, err
		}
		last = append(last[:0], row...)
		if since && j.since != nil {
			if lu, ok := lastUpdated(r.Resource); !ok || lu.Before(*j.since) {
				continue
			}
		}
		if err := out.Write(typ, r.Resource); err != nil {
			return false, written, last, err
		}
		if j.patients != nil {
			j.patients.note(typ, r.Resource)
		}
		written++
	}
	return false, written, last, rows.Err()
}

// resumable reports an error after which a chunk can go on from its last
// row: the query was cut (deadline, tunnel, database availability), not
// refused.
func resumable(err error) bool {
	if werr, ok := errors.AsType[*wire.Error](err); ok && werr.Kind == wire.KindTimeout {
		return true
	}
	return transient(err)
}

// lastUpdated reads meta.lastUpdated from a resource's JSON without
// decoding it all: the mappings write it only in meta.
func lastUpdated(resource []byte) (time.Time, bool) {
	const key = `"lastUpdated":"`
	i := bytes.Index(resource, []byte(key))
	if i < 0 {
		return time.Time{}, false
	}
	rest := resource[i+len(key):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:end]))
	return t, err == nil
}
