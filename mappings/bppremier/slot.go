package bppremier

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
			parts = append(parts, `(g."user_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.Owner))+
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
				ps = append(ps, b.Param(mappings.ParamVarChar, c))
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

// slotStart is the predicate of one start value on the grid row g: the
// slot's start is a point in time.
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
	return "(" + ge(v.Lo) + " AND " + lt(v.Hi) + ")" // eq, ap
}

// slotAfter is "after the cursor's slot" in the search's order (schedule,
// then start).
func slotAfter(b *mappings.Builder, after []string) (string, error) {
	var k mappings.SlotKey
	ok := len(after) == 1
	if ok {
		k, ok = mappings.ParseSlotID(after[0])
	}
	if !ok {
		return "", mappings.BadRequest("", "the paging cursor is not valid for this search; start the search again")
	}
	u := b.Param(mappings.ParamInt, strconv.Itoa(k.Owner))
	l := b.Param(mappings.ParamInt, strconv.Itoa(k.Loc))
	d := mappings.DayParam(b, k.Day)
	s := b.Param(mappings.ParamInt, strconv.Itoa(k.Secs))
	return `(t."user_id" > ` + u + ` OR (t."user_id" = ` + u + ` AND (t."location_id" > ` + l + ` OR (t."location_id" = ` + l +
		` AND (t."day" > ` + d + ` OR (t."day" = ` + d + ` AND t."secs" > ` + s + `))))))`, nil
}

type slotColumns struct {
	UserID     mappings.Int  `json:"user_id"`
	LocationID mappings.Int  `json:"location_id"`
	Day        mappings.Wall `json:"day"`
	Secs       mappings.Int  `json:"secs"`
	Length     mappings.Int  `json:"length"`
	Status     mappings.Text `json:"status"`
}

func (c slotColumns) key() mappings.SlotKey {
	d := c.Day.In(time.UTC)
	return mappings.SlotKey{Owner: int(c.UserID), Loc: int(c.LocationID), Day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), Secs: int(c.Secs)}
}

// Row implements mappings.Resource.
func (r *slotResource) Row(row []byte, site mappings.Site) (mappings.Row, error) {
	var c slotColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, fmt.Errorf("mappings: Slot row: %w", err)
	}
	if c.Day.IsZero() {
		return mappings.Row{}, fmt.Errorf("mappings: Slot row without a day")
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

// Cursor implements mappings.Resource: the slot's id.
func (r *slotResource) Cursor(row []byte) ([]string, error) {
	var c slotColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return nil, fmt.Errorf("mappings: Slot row: %w", err)
	}
	return []string{c.key().ID()}, nil
}
