package zedmed

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

// Slot is the computed slots of the schedules (slot.sql): a grid made on the fly from session
// templates, leave and appointments for a bounded range of days. Its id is
// "{schedule id}-{YYYYMMDDhhmmss}", the schedule and the slot's start on the practice's wall
// clock. A search needs schedule and a start range of at most mappings.MaxSlotDays, or _id.
var Slot mappings.Resource = newSlot()

type slotResource struct {
	decl fhir.ResourceDecl
	tmpl *template.Template
}

func newSlot() *slotResource {
	r := &slotResource{decl: aucore.SlotDecl()}
	r.tmpl = template.Must(template.New("Slot").Option("missingkey=error").Funcs(withFuncs(template.FuncMap{
		"one":       func() string { return "" }, // replaced per dialect in render
		"blocked":   func() int { return apptBlocked },
		"cancelled": func() int { return apptCancelled },
	})).Parse(slotSQL))
	return r
}

func (r *slotResource) Decl() *fhir.ResourceDecl { return &r.decl }

func (r *slotResource) Search(d mappings.Dialect, s *fhir.Search) (mappings.Query, error) {
	return r.render(d, s, false)
}

func (r *slotResource) Count(d mappings.Dialect, s *fhir.Search) (mappings.Query, error) {
	return r.render(d, s, true)
}

type slotData struct {
	Days, Sessions, Grid, Where, Select, Limit string
	Count                                      bool
}

// castParam gives a parameter a type where nothing else does (a select list): Firebird needs
// it, SQLite takes the bound value as it is.
func castParam(d mappings.Dialect, param, sqlType string) string {
	if d.Engine() == mappings.EngineSQLite {
		return param
	}
	return "CAST(" + param + " AS " + sqlType + ")"
}

// isoDOW is DAY_OF_WEEK's numbering: 1 Monday .. 7 Sunday.
func isoDOW(d time.Time) int {
	if d.Weekday() == time.Sunday {
		return 7
	}
	return int(d.Weekday())
}

func (r *slotResource) render(d mappings.Dialect, s *fhir.Search, count bool) (mappings.Query, error) {
	if d == nil {
		return mappings.Query{}, fmt.Errorf("zedmed: Slot: no dialect")
	}
	if s.Type != "" && s.Type != "Slot" {
		return mappings.Query{}, fmt.Errorf("zedmed: a %s search given to the Slot mapping", s.Type)
	}
	q, err := mappings.ParseSlotSearch(s)
	if err != nil {
		return mappings.Query{}, err
	}
	b := &mappings.Builder{Dialect: d}
	data := slotData{Select: "SELECT", Count: count}
	one := ""
	if d.Engine() == mappings.EngineFirebird {
		one = " FROM RDB$DATABASE" // Firebird has no SELECT without FROM
	}

	days := q.Days()
	if len(days) == 0 {
		days = []time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	var rows []string
	for i, day := range days {
		dow := strconv.Itoa(isoDOW(day))
		if i == 0 && len(q.Days()) == 0 {
			dow = "0" // no valid id: a day no session has
		}
		rows = append(rows, "    SELECT "+castParam(d, mappings.DayParam(b, day), "TIMESTAMP")+` AS "day", `+
			castParam(d, b.Param(mappings.ParamInt, dow), "INTEGER")+` AS "dow"`+one)
	}
	data.Days = strings.Join(rows, "\n    UNION ALL\n")

	schedules := q.Schedules
	if q.HasIDs {
		schedules = nil
		for _, k := range q.IDs {
			p := [2]int{k.Owner, k.Loc}
			if !slices.Contains(schedules, p) && (!q.HasSched || slices.Contains(q.Schedules, p)) {
				schedules = append(schedules, p)
			}
		}
	}
	var parts []string
	for _, p := range schedules {
		parts = append(parts, "("+col("s", "SESSION_TEMPLATE.DOCTOR_ID")+" = "+b.Param(mappings.ParamInt, strconv.Itoa(p[0]))+
			" AND "+col("s", "SESSION_TEMPLATE.BRANCH_ID")+" = "+b.Param(mappings.ParamInt, strconv.Itoa(p[1]))+")")
	}
	switch len(parts) {
	case 0:
		data.Sessions = "\n      AND " + mappings.SQLFalse
	case 1:
		data.Sessions = "\n      AND " + parts[0]
	default:
		data.Sessions = "\n      AND (" + strings.Join(parts, " OR ") + ")"
	}

	var grid []string
	if q.HasIDs {
		var ps []string
		for _, k := range q.IDs {
			ps = append(ps, `(g."practitioner_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Owner))+
				` AND g."location_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Loc))+
				` AND g."day" = `+mappings.DayParam(b, k.Day)+
				` AND g."secs" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Secs))+")")
		}
		if len(ps) == 0 {
			ps = []string{mappings.SQLFalse}
		}
		grid = append(grid, "("+strings.Join(ps, "\n       OR ")+")")
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
				ps = append(ps, "'"+c+"'") // a code of mappings.SlotStatuses, checked above
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
		limit := b.Param(mappings.ParamInt, strconv.Itoa(max(s.Count, 0)+1))
		if top := d.Top(limit); top != "" {
			data.Select += " " + top
		}
		data.Limit = d.Limit(limit)
	}
	for _, p := range where {
		data.Where += "\n  AND " + p
	}
	tmpl, err := r.tmpl.Clone()
	if err != nil {
		return mappings.Query{}, err
	}
	tmpl.Funcs(template.FuncMap{"one": func() string { return one }})
	var out bytes.Buffer
	if err := tmpl.Execute(&out, data); err != nil {
		return mappings.Query{}, fmt.Errorf("zedmed: Slot: SQL template: %w", err)
	}
	return mappings.Query{SQL: out.String(), Params: b.Params()}, nil
}

// Row implements mappings.Resource.
func (r *slotResource) Row(row []byte, site mappings.Site) (mappings.Row, error) {
	return aucore.SlotOf(row, site)
}

// Cursor implements mappings.Resource: the slot's id.
func (r *slotResource) Cursor(row []byte) ([]string, error) { return aucore.SlotCursor(row) }
