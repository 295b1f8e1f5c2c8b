package zedmed

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
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
	r := &slotResource{decl: fhir.ResourceDecl{
		Type: "Slot",
		Params: []fhir.SearchParam{
			{Name: "_id", Type: fhir.TypeToken, Doc: "{practitioner id}-{location id}-{start as YYYYMMDDhhmmss, practice time}"},
			{Name: "schedule", Type: fhir.TypeReference, Targets: []string{"Schedule"},
				Doc: "The schedule (required without _id): Schedule/{practitioner id}-{location id}"},
			{Name: "start", Type: fhir.TypeDate,
				Doc: fmt.Sprintf("The slot's start (required without _id): a range of at most %d days, e.g. start=ge2026-06-15&start=lt2026-06-22", mappings.MaxSlotDays)},
			{Name: "status", Type: fhir.TypeToken, Doc: "free, busy (an appointment), busy-unavailable (a blocked slot)"},
		},
		Includes:     []fhir.Include{{Source: "Slot", Param: "schedule", Target: "Schedule"}},
		DefaultCount: 100, MaxCount: 1000,
	}}
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
			ps = append(ps, `(g."doctor_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Owner))+
				` AND g."branch_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Loc))+
				` AND g."day" = `+mappings.DayParam(b, k.Day)+
				` AND g."secs" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Secs))+")")
		}
		if len(ps) == 0 {
			ps = []string{mappings.SQLFalse}
		}
		grid = append(grid, "("+strings.Join(ps, "\n       OR ")+")")
	}
	for _, v := range q.Starts {
		grid = append(grid, slotStart(b, v))
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
			p, err := slotAfter(b, s.After)
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

// slotStart is the predicate of one start value on the grid row g.
func slotStart(b *mappings.Builder, v fhir.Value) string {
	ge := func(t time.Time) string { return mappings.AtOrAfter(b, `g."day"`, `g."secs"`, t, false) }
	lt := func(t time.Time) string { return mappings.Before(b, `g."day"`, `g."secs"`, t, false) }
	switch v.Prefix {
	case fhir.PrefixGe:
		return ge(v.Lo)
	case fhir.PrefixGt, fhir.PrefixSa:
		return ge(v.Hi)
	case fhir.PrefixLe:
		return lt(v.Hi)
	case fhir.PrefixLt, fhir.PrefixEb:
		return lt(v.Lo)
	case fhir.PrefixNe:
		return "(" + lt(v.Lo) + " OR " + ge(v.Hi) + ")"
	}
	return "(" + ge(v.Lo) + " AND " + lt(v.Hi) + ")"
}

// slotAfter is "after the cursor's slot" in the search's order (schedule, then start).
func slotAfter(b *mappings.Builder, after []string) (string, error) {
	var k mappings.SlotKey
	ok := len(after) == 1
	if ok {
		k, ok = mappings.ParseSlotID(after[0])
	}
	if !ok {
		return "", mappings.BadRequest("", "the paging cursor is not valid for this search; start the search again")
	}
	dr := b.Param(mappings.ParamInt, strconv.Itoa(k.Owner))
	br := b.Param(mappings.ParamInt, strconv.Itoa(k.Loc))
	dy := mappings.DayParam(b, k.Day)
	sc := b.Param(mappings.ParamInt, strconv.Itoa(k.Secs))
	return `(t."doctor_id" > ` + dr + ` OR (t."doctor_id" = ` + dr + ` AND (t."branch_id" > ` + br + ` OR (t."branch_id" = ` + br +
		` AND (t."day" > ` + dy + ` OR (t."day" = ` + dy + ` AND t."secs" > ` + sc + `))))))`, nil
}

type slotColumns struct {
	DoctorID mappings.Int  `json:"doctor_id"`
	BranchID mappings.Int  `json:"branch_id"`
	Day      mappings.Wall `json:"day"`
	Secs     mappings.Int  `json:"secs"`
	Length   mappings.Int  `json:"length"`
	Status   mappings.Text `json:"status"`
}

func (c slotColumns) key() mappings.SlotKey {
	d := c.Day.In(time.UTC)
	return mappings.SlotKey{Owner: int(c.DoctorID), Loc: int(c.BranchID), Day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), Secs: int(c.Secs)}
}

func (r *slotResource) Row(row []byte, site mappings.Site) (mappings.Row, error) {
	var c slotColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, fmt.Errorf("zedmed: Slot row: %w", err)
	}
	if c.Day.IsZero() {
		return mappings.Row{}, fmt.Errorf("zedmed: Slot row without a day")
	}
	k := c.key()
	status := fm.SlotStatusFree
	switch c.Status {
	case "busy":
		status = fm.SlotStatusBusy
	case "busy-unavailable":
		status = fm.SlotStatusBusyUnavailable
	}
	sl := fm.Slot{
		Id:       mappings.Ptr(k.ID()),
		Schedule: *mappings.Ref("Schedule", mappings.ScheduleID(k.Owner, k.Loc), ""),
		Status:   status,
		Start:    c.Day.InstantAt(k.Secs, site.Location),
		End:      c.Day.InstantAt(k.Secs+int(c.Length), site.Location),
	}
	raw, err := mappings.Marshal("Slot", fm.OtherSlot(sl))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: map[string][]string{"schedule": {mappings.ScheduleID(k.Owner, k.Loc)}}}, nil
}

func (r *slotResource) Cursor(row []byte) ([]string, error) {
	var c slotColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return nil, fmt.Errorf("zedmed: Slot row: %w", err)
	}
	return []string{c.key().ID()}, nil
}
