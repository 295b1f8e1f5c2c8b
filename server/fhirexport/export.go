// Package fhirexport runs the FHIR Bulk Data exports ($export, Bulk Data
// Access IG v2) of a site: which types a kick-off asks for, and the job
// that reads them through the site's search component ([fhirsearch.Site])
// into a [bulk.Output]'s NDJSON files. The HTTP routes, access checks and
// the job manager are the callers'.
//
// How a job runs: type after type, each normally in one long query of
// priority bulk (the agent never gives bulk work the last execution slot,
// so interactive searches go on), sorted by _id, with no byte cap: its
// rows stream through the tunnel (yamux flow control) and go one at a time
// through the mapping into the type's NDJSON file, so nothing holds more
// than one row and memory does not grow with the practice. When the query
// is cut midway (its deadline, the tunnel, the database going away) the
// type resumes after the last row read, using the mapping's keyset cursor;
// a query failing before its first row is retried with backoff. Why not
// pages of 1,000 as searches do: the mappings' union types (Observation)
// re-sort the whole union for every keyset page, so paging costs O(n²) on
// the practice server (96 s for the 95,000 observations of a
// 10,000-patient practice in pages of 1,000, against 14 s in one query);
// the keyset is kept for resuming.
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
package fhirexport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"fhirlink/agent/wire"
	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/server"
	"fhirlink/server/bulk"
	"fhirlink/server/fhirsearch"
)

// Export limits. A chunk is one query; chunkRows is large enough that a
// type is normally read in one query, and bounds nothing in memory (rows
// stream).
const (
	chunkRows  = 1_000_000
	maxChunks  = 100_000
	retries    = 3
	maxResumes = 20
	// refChunk is how many patient ids one query of referencedPatients
	// binds (SQL Server takes at most 2,100 parameters).
	refChunk = 200
)

// Bulk are the limits of an export's queries: long, never capped in
// bytes, and behind every interactive query.
var Bulk = fhirsearch.Limits{Priority: wire.PriorityBulk, MaxTimeInQueue: 10 * time.Minute, Timeout: 30 * time.Minute}

// ndjsonFormats are the _outputFormat values accepted.
var ndjsonFormats = []string{"application/fhir+ndjson", "application/ndjson", "ndjson"}

// params are the kick-off parameters understood (_format is the HTTP
// layer's).
var params = []string{"_type", "_since", "_outputFormat", "_format"}

// Export is one export's work: made by [Parse], run once by [Export.Run].
type Export struct {
	site     *fhirsearch.Site
	types    []mappings.Resource
	since    *time.Time
	warnings []string
	log      *slog.Logger
	// patients, when the export has a Patient file, keeps it
	// self-contained (patientSet).
	patients *patientSet
}

// Parse reads a kick-off's parameters (_type, _since, _outputFormat) for
// site. patientLevel is [base]/Patient/$export, which exports the patient
// compartment only. An unknown parameter is refused when strict (Prefer:
// handling=strict) and otherwise reported in the export's error file. A
// bad value is a 400 *fhir.Error. log receives the job's progress.
func Parse(site *fhirsearch.Site, q url.Values, patientLevel, strict bool, log *slog.Logger) (*Export, error) {
	e := &Export{site: site, log: log}
	for name := range q {
		if !slices.Contains(params, name) {
			if strict {
				return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "$export does not support the parameter %s (Prefer: handling=strict); it supports _type, _since and _outputFormat", name)
			}
			e.warnings = append(e.warnings, fmt.Sprintf("the parameter %s is not supported and was ignored; $export supports _type, _since and _outputFormat", name))
		}
	}
	slices.Sort(e.warnings)
	if f := q.Get("_outputFormat"); f != "" {
		// An unescaped "+" in a query string decodes to a space.
		if !slices.Contains(ndjsonFormats, strings.ReplaceAll(strings.TrimSpace(f), " ", "+")) {
			return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_outputFormat %q is not supported; use application/fhir+ndjson", f)
		}
	}
	var level []mappings.Resource
	for _, r := range site.Mapping().Resources {
		if e.exportable(r) && (!patientLevel || inPatientCompartment(r)) {
			level = append(level, r)
		}
	}
	e.types = level
	if raw, ok := q["_type"]; ok {
		e.types = nil
		for _, v := range raw {
			for name := range strings.SplitSeq(v, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				res, ok := site.Mapping().Resource(name)
				switch {
				case !ok:
					return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_type: %s is not supported here; see the CapabilityStatement at %s/metadata", name, site.Base())
				case !e.exportable(res):
					return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_type: %s cannot be exported: it can only be searched with parameters; search it instead", name)
				case !slices.Contains(level, res):
					return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueNotSupported, "_type: %s is not in the patient compartment; export it with the system-level %s/$export", name, site.Base())
				}
				if !slices.Contains(e.types, res) {
					e.types = append(e.types, res)
				}
			}
		}
		if len(e.types) == 0 {
			return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "_type is empty; name resource types, e.g. _type=Patient,Condition, or leave it out for every type")
		}
	}
	if v := q.Get("_since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fhir.Errorf(http.StatusBadRequest, fhir.IssueInvalid, "_since %q is not a FHIR instant; use e.g. 2024-05-01T00:00:00Z or 2024-05-01T10:00:00+10:00", v)
		}
		e.since = &t
	}
	return e, nil
}

// Types are the resource types exported, in order.
func (e *Export) Types() []string {
	out := make([]string, len(e.types))
	for i, r := range e.types {
		out[i] = r.Decl().Type
	}
	return out
}

// exportable reports whether res can be searched without parameters.
func (e *Export) exportable(res mappings.Resource) bool {
	_, err := res.Search(e.site.Dialect(), &fhir.Search{Type: res.Decl().Type, Count: 1, Sort: []fhir.SortKey{{Name: "_id"}}})
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

// cursor is an export's checkpoint: the index of the type it is at (the
// length of types for the referenced patients) and, within it, the keyset
// of the last row recorded.
type cursor struct {
	Type  int      `json:"type"`
	After []string `json:"after,omitempty"`
}

// errCut ends a query that has streamed for a checkpoint's interval: the
// rows so far are recorded and the type goes on after them.
var errCut = errors.New("fhirexport: checkpoint")

// Run writes the export through out: a [bulk.Func]'s work. A type that
// fails is reported in the error file and the export goes on; only a
// failure to write the files, or ctx ending, fails the whole job. It
// records a checkpoint at each type's end and every
// out.CheckpointDue interval within a type; a job taken over by another
// node (out.Cursor set) goes on from there, its patient set rebuilt from
// the files already recorded.
func (e *Export) Run(ctx context.Context, out *bulk.Output) error {
	var patientRes mappings.Resource
	for _, res := range e.types {
		if res.Decl().Type == "Patient" {
			patientRes = res
			e.patients = &patientSet{written: map[string]struct{}{}, referenced: map[string]struct{}{}}
		}
	}
	var at cursor
	if c := out.Cursor(); c != "" {
		if err := json.Unmarshal([]byte(c), &at); err != nil || at.Type > len(e.types) {
			return fmt.Errorf("fhirexport: unreadable checkpoint %q", c)
		}
		if err := e.readBack(ctx, out); err != nil {
			return err
		}
		e.log.Info("export: resumed", "site", e.site.ID(), "type", at.Type, "resources", out.Resources())
	} else {
		for _, w := range e.warnings {
			if err := out.Error(fhir.Outcome(fhir.SeverityWarning, fhir.IssueNotSupported, w)); err != nil {
				return err
			}
		}
		if err := e.checkpoint(out, cursor{}); err != nil {
			return err
		}
	}
	for i := at.Type; i < len(e.types); i++ {
		res := e.types[i]
		typ := res.Decl().Type
		progress := func() {
			out.Progress(fmt.Sprintf("exporting %s (type %d of %d); %d resources written", typ, i+1, len(e.types), out.Resources()))
		}
		progress()
		began := time.Now()
		var after []string
		if i == at.Type {
			after = at.After
		}
		n, err := e.exportType(ctx, i, after, out, progress)
		e.log.Info("export: type done", "site", e.site.ID(), "type", typ, "resources", n, "ms", time.Since(began).Milliseconds())
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if err != nil {
			if _, ok := errors.AsType[*bulk.WriteError](err); ok {
				return err
			}
			e.log.Error("export: type failed", "site", e.site.ID(), "type", typ, "written", n, "err", err)
			msg := fmt.Sprintf("%s: the export of this type stopped after %d resources: %s. Export it again (_type=%s).", typ, n, failure(err), typ)
			if werr := out.Error(fhir.Outcome(fhir.SeverityError, fhir.IssueException, msg)); werr != nil {
				return werr
			}
		}
		if err := e.checkpoint(out, cursor{Type: i + 1}); err != nil {
			return err
		}
	}
	if e.patients != nil {
		return e.referencedPatients(ctx, patientRes, out)
	}
	return nil
}

func (e *Export) checkpoint(out *bulk.Output, at cursor) error {
	b, err := json.Marshal(at)
	if err != nil {
		return err
	}
	return out.Checkpoint(string(b))
}

// readBack rebuilds the patient set of a resumed export from the files
// recorded before its checkpoint.
func (e *Export) readBack(ctx context.Context, out *bulk.Output) error {
	if e.patients == nil {
		return nil
	}
	for _, res := range e.types {
		typ := res.Decl().Type
		if err := out.ReadBack(ctx, typ, func(line []byte) error {
			e.patients.note(typ, mappings.ResourceID(line), line)
			return nil
		}); err != nil {
			return fmt.Errorf("fhirexport: reading back the recorded %s files: %w", typ, err)
		}
	}
	return nil
}

// exportType writes every resource of the i-th type (changed since
// e.since) after the keyset after, and returns how many.
func (e *Export) exportType(ctx context.Context, i int, after []string, out *bulk.Output, progress func()) (written int64, err error) {
	res := e.types[i]
	decl := res.Decl()
	search := &fhir.Search{Type: decl.Type, Count: chunkRows, Sort: []fhir.SortKey{{Name: "_id"}}, After: after}
	if e.since != nil {
		if _, ok := decl.Param("_lastUpdated"); ok {
			ps, err := fhir.ParseSearch(decl, url.Values{"_lastUpdated": {"ge" + e.since.Format(time.RFC3339Nano)}},
				fhir.ParseOptions{Strict: true, Location: e.site.Location()})
			if err != nil {
				return 0, err
			}
			search.Clauses = ps.Clauses
		}
	}
	tries, resumes := 0, 0
	for range maxChunks {
		sc, n, err := e.chunk(ctx, res, search, out, true, true)
		written += n
		if sc.Rows > 0 {
			// The next chunk, or a resumed one, starts after the last row
			// read.
			after, cerr := sc.After()
			if cerr != nil {
				return written, cerr
			}
			search.After = after
		}
		more := sc.More
		if err != nil {
			switch {
			case errors.Is(err, errCut):
				if err := e.checkpoint(out, cursor{Type: i, After: search.After}); err != nil {
					return written, err
				}
				more = true
			case ctx.Err() != nil:
				return written, ctx.Err()
			case sc.Rows > 0 && resumable(err) && resumes < maxResumes:
				// Interrupted after progress: go on after the last row.
				resumes++
				more = true
			case sc.Rows == 0 && transient(err) && tries < retries:
				tries++
				if !backoff(ctx, tries) {
					return written, ctx.Err()
				}
				continue
			default:
				return written, err
			}
		}
		progress()
		if !more {
			return written, nil
		}
	}
	return written, fmt.Errorf("export: %s has more than %d chunks", decl.Type, maxChunks)
}

// chunk exports one chunk of search: one query streaming up to
// search.Count rows, each written as it arrives. since applies _since to
// the rows (the referenced patients are exported whatever it says). When
// cut, a query that has streamed rows for a checkpoint's interval ends
// with errCut before its next row, so the rows so far can be recorded.
func (e *Export) chunk(ctx context.Context, res mappings.Resource, search *fhir.Search, out *bulk.Output, since, cut bool) (sc fhirsearch.Scanned, written int64, err error) {
	typ := res.Decl().Type
	var first time.Time
	sc, err = e.site.Scan(ctx, res, search, Bulk, func(r mappings.Row) error {
		if first.IsZero() {
			first = time.Now()
		} else if cut && written > 0 && out.CheckpointDue(first) {
			return errCut
		}
		if since && e.since != nil {
			if lu, ok := lastUpdated(r.Resource); !ok || lu.Before(*e.since) {
				return nil
			}
		}
		if err := out.Write(typ, r.Resource); err != nil {
			return err
		}
		if e.patients != nil {
			e.patients.note(typ, r.ID, r.Resource)
		}
		written++
		return nil
	})
	return sc, written, err
}

// referencedPatients adds to the Patient file the patients the export
// refers to that it has not written, read by _id (which finds inactive
// and deceased patients too, whatever _since says). A referenced patient
// the practice database no longer has as a live record is reported in the
// error file, as the reference cannot be resolved.
func (e *Export) referencedPatients(ctx context.Context, res mappings.Resource, out *bulk.Output) error {
	missing := e.patients.missing()
	if len(missing) == 0 {
		return nil
	}
	out.Progress(fmt.Sprintf("exporting %d referenced patients; %d resources written", len(missing), out.Resources()))
	var added int64
	for chunk := range slices.Chunk(missing, refChunk) {
		search, err := fhirsearch.IDSearch(res, chunk)
		if err != nil {
			return err
		}
		var n int64
		for attempt := 0; ; attempt++ {
			_, n, err = e.chunk(ctx, res, search, out, false, false)
			if err == nil || n > 0 || !transient(err) || attempt == retries || !backoff(ctx, attempt+1) {
				break
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
			e.log.Error("export: referenced patients failed", "site", e.site.ID(), "written", added, "err", err)
			msg := fmt.Sprintf("Patient: %d patients referenced by exported resources could not be added to the Patient file: %s. Export again.", len(missing)-int(added), failure(err))
			return out.Error(fhir.Outcome(fhir.SeverityError, fhir.IssueException, msg))
		}
		// The patients added are in the Patient file, from which a resumed
		// export rebuilds what is still missing.
		if err := e.checkpoint(out, cursor{Type: len(e.types)}); err != nil {
			return err
		}
	}
	e.log.Info("export: referenced patients added", "site", e.site.ID(), "referenced", len(missing), "added", added)
	var gone []string
	for _, id := range missing {
		if _, ok := e.patients.written[id]; !ok {
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

// note records what one exported resource of type typ, id id, brings to
// the set.
func (ps *patientSet) note(typ, id string, resource []byte) {
	if typ == "Patient" {
		ps.written[id] = struct{}{}
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

// failure says what went wrong with a type, for the error file.
func failure(err error) string {
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

// backoff waits before retry n of a query (1, 2, ...): 2, 4, 8 s, so a
// busy practice server gets time to recover. It reports false when ctx
// ended first.
func backoff(ctx context.Context, n int) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(time.Duration(1<<n) * time.Second):
		return true
	}
}

// transient reports an error worth retrying a chunk for (it failed before
// its first row).
func transient(err error) bool {
	if werr, ok := errors.AsType[*wire.Error](err); ok {
		return werr.Kind == wire.KindExpiredInQueue || werr.Kind == wire.KindUnavailable
	}
	return server.ErrorCode(err) == server.EUNAVAILABLE
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
