package bppremier

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings"
	"fhirlink/mappings/aucore"
)

//go:embed slot.sql
var slotSQL string

// Slot is the computed slots of the schedules (slot.sql): not a table but a
// grid made on the fly from sessions, days away and appointments, for a
// bounded range of days. Its id is "{schedule id}-{YYYYMMDDhhmmss}", the
// schedule and the slot's start on the practice's wall clock, so that it is
// stable. A search needs schedule and a start range of at most
// mappings.MaxSlotDays, or _id.
var Slot mappings.Resource = newSlotResource()

type slotResource struct {
	decl fhir.ResourceDecl
	tmpl *template.Template
}

func newSlotResource() *slotResource {
	r := &slotResource{decl: aucore.SlotDecl()}
	r.tmpl = template.Must(template.New("Slot").Option("missingkey=error").Funcs(template.FuncMap{"clinical": clinicalUser}).Parse(slotSQL))
	return r
}

// Decl implements mappings.Resource.
func (r *slotResource) Decl() *fhir.ResourceDecl { return &r.decl }

// Search implements mappings.Resource.
func (r *slotResource) Search(d mappings.Dialect, s *fhir.Search) (mappings.Query, error) {
	return r.render(d, s, false)
}

// Count implements mappings.Resource.
func (r *slotResource) Count(d mappings.Dialect, s *fhir.Search) (mappings.Query, error) {
	return r.render(d, s, true)
}

// slotData is what slot.sql is executed with.
type slotData struct {
	Days     string // the "days" rows: SELECT day, dow UNION ALL ...
	Sessions func(alias string) string
	Grid     string // predicates on the grid row g, each as "\n  AND pred"
	Where    string // predicates on the slot row t
	Select   string
	Limit    string
	Count    bool
}

func (r *slotResource) render(d mappings.Dialect, s *fhir.Search, count bool) (mappings.Query, error) {
	if d == nil {
		return mappings.Query{}, fmt.Errorf("mappings: Slot: no dialect")
	}
	if s.Type != "" && s.Type != "Slot" {
		return mappings.Query{}, fmt.Errorf("mappings: a %s search given to the Slot mapping", s.Type)
	}
	q, err := mappings.ParseSlotSearch(s)
	if err != nil {
		return mappings.Query{}, err
	}
	b := &mappings.Builder{Dialect: d}
	data := slotData{Select: "SELECT", Count: count}

	// The days, and the schedules whose sessions are cut into slots.
	days := q.Days()
	var rows []string
	for _, day := range days {
		rows = append(rows, "    SELECT "+mappings.CastDateTime(d, mappings.DayParam(b, day))+` AS "day", `+
			mappings.CastInt(b.Param(mappings.ParamInt, strconv.Itoa(int(day.Weekday())+1)))+` AS "dow"`)
	}
	if len(rows) == 0 { // no valid id: no day
		rows = []string{`    SELECT ` + mappings.CastDateTime(d, mappings.DayParam(b, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))) +
			` AS "day", ` + mappings.CastInt(b.Param(mappings.ParamInt, "0")) + ` AS "dow"`}
	}
	data.Days = strings.Join(rows, "\n    UNION ALL\n")
	var schedules [][2]int
	if q.HasSched {
		schedules = q.Schedules
	}
	if q.HasIDs {
		var fromIDs [][2]int
		for _, k := range q.IDs {
			p := [2]int{k.Owner, k.Loc}
			if !slices.Contains(fromIDs, p) && (!q.HasSched || slices.Contains(q.Schedules, p)) {
				fromIDs = append(fromIDs, p)
			}
		}
		schedules = fromIDs
	}
	var sched [][2]string // placeholders of USERID, LOCATIONID
	for _, p := range schedules {
		sched = append(sched, [2]string{b.Param(mappings.ParamInt, strconv.Itoa(p[0])), b.Param(mappings.ParamInt, strconv.Itoa(p[1]))})
	}
	data.Sessions = func(alias string) string {
		if len(sched) == 0 {
			return "\n      AND " + mappings.SQLFalse
		}
		parts := make([]string, len(sched))
		for i, p := range sched {
			parts[i] = "(" + alias + `."USERID" = ` + p[0] + " AND " + alias + `."LOCATIONID" = ` + p[1] + ")"
		}
		if len(parts) == 1 {
			return "\n      AND " + parts[0]
		}
		return "\n      AND (" + strings.Join(parts, " OR ") + ")"
	}

	// Predicates on the slot's start: the ids', the start clauses'.
	var grid []string
	if q.HasIDs {
		var parts []string
		for _, k := range q.IDs {
			parts = append(parts, `(g."practitioner_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Owner))+
				` AND g."location_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Loc))+
				` AND g."day" = `+mappings.DayParam(b, k.Day)+
				` AND g."secs" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Secs))+")")
		}
		if len(parts) == 0 {
			parts = []string{mappings.SQLFalse}
		}
		grid = append(grid, "("+strings.Join(parts, "\n       OR ")+")")
	}
	for _, v := range q.Starts {
		grid = append(grid, aucore.SlotStart(b, v))
	}
	for _, p := range grid {
		data.Grid += "\n      AND " + p
	}

	var where []string
	if q.HasStatus {
		if len(q.Statuses) == 0 {
			where = append(where, mappings.SQLFalse)
		} else {
			var ps []string
			for _, c := range q.Statuses {
				ps = append(ps, b.Param(mappings.ParamVarChar, c))
			}
			where = append(where, `t."status" IN (`+strings.Join(ps, ", ")+")")
		}
	}
	if !count {
		if s.After != nil {
			p, err := aucore.SlotAfter(b, s.After)
			if err != nil {
				return mappings.Query{}, err
			}
			where = append(where, p)
		}
		n := max(s.Count, 0)
		limit := b.Param(mappings.ParamInt, strconv.Itoa(n+1))
		if top := d.Top(limit); top != "" {
			data.Select += " " + top
		}
		data.Limit = d.Limit(limit)
	}
	for _, p := range where {
		data.Where += "\n  AND " + p
	}
	var out bytes.Buffer
	if err := r.tmpl.Execute(&out, data); err != nil {
		return mappings.Query{}, fmt.Errorf("mappings: Slot: SQL template: %w", err)
	}
	return mappings.Query{SQL: out.String(), Params: b.Params()}, nil
}

// Row implements mappings.Resource.
func (r *slotResource) Row(row []byte, site mappings.Site) (mappings.Row, error) {
	return aucore.SlotOf(row, site)
}

// Cursor implements mappings.Resource: the slot's id.
func (r *slotResource) Cursor(row []byte) ([]string, error) { return aucore.SlotCursor(row) }
