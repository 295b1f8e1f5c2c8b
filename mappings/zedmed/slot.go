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

// maxSlotDays bounds the start range of a slot search: the grid is made for each day of it.
const maxSlotDays = 31

const slotStatusSystem = "http://hl7.org/fhir/slotstatus"

var slotStatusCodes = []string{"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}

// Slot is the computed slots of the schedules (slot.sql): a grid made on the fly from session
// templates, leave and appointments for a bounded range of days. Its id is
// "{schedule id}-{YYYYMMDDhhmmss}", the schedule and the slot's start on the practice's wall
// clock. A search needs schedule and a start range of at most maxSlotDays, or _id.
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
				Doc: fmt.Sprintf("The slot's start (required without _id): a range of at most %d days, e.g. start=ge2026-06-15&start=lt2026-06-22", maxSlotDays)},
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

// slotKey is a slot: its schedule and start (day at midnight, seconds after it).
type slotKey struct {
	doctor, branch int
	day            time.Time
	secs           int
}

func (k slotKey) id() string {
	return scheduleID(k.doctor, k.branch) + "-" + k.day.Add(time.Duration(k.secs)*time.Second).Format("20060102150405")
}

func parseSlotID(id string) (k slotKey, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 || len(id)-i-1 != 14 {
		return k, false
	}
	if k.doctor, k.branch, ok = parseScheduleID(id[:i]); !ok {
		return k, false
	}
	t, err := time.Parse("20060102150405", id[i+1:])
	if err != nil {
		return k, false
	}
	k.day = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	k.secs = t.Hour()*3600 + t.Minute()*60 + t.Second()
	return k, true
}

// slotQuery is a slot search worked out from its clauses.
type slotQuery struct {
	ids       []slotKey
	hasIDs    bool
	schedules [][2]int
	hasSched  bool
	from, to  time.Time
	starts    []fhir.Value
	statuses  []string
	hasStatus bool
}

func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func parseSlotSearch(s *fhir.Search) (*slotQuery, error) {
	q := &slotQuery{}
	for _, c := range s.Clauses {
		if c.Modifier != fhir.ModifierNone {
			return nil, mappings.BadRequest(c.Param.Name, "modifier :%s is not supported on Slot searches", c.Modifier)
		}
		switch c.Param.Name {
		case "_id":
			ids := []slotKey{}
			for _, v := range c.Values {
				if k, ok := parseSlotID(v.Code); ok {
					ids = append(ids, k)
				}
			}
			if q.hasIDs {
				ids = slices.DeleteFunc(ids, func(k slotKey) bool { return !slices.Contains(q.ids, k) })
			}
			q.ids, q.hasIDs = ids, true
		case "schedule":
			sched := [][2]int{}
			for _, v := range c.Values {
				if v.RefType != "" && v.RefType != "Schedule" {
					continue
				}
				if dr, br, ok := parseScheduleID(v.RefID); ok {
					sched = append(sched, [2]int{dr, br})
				}
			}
			if q.hasSched {
				sched = slices.DeleteFunc(sched, func(p [2]int) bool { return !slices.Contains(q.schedules, p) })
			}
			q.schedules, q.hasSched = sched, true
		case "start":
			if len(c.Values) != 1 {
				return nil, mappings.BadRequest("start", "give one value per start parameter (e.g. start=ge2026-06-15&start=lt2026-06-22), not a list")
			}
			v := c.Values[0]
			if v.Lo.IsZero() || v.Hi.IsZero() || !v.Lo.Before(v.Hi) {
				return nil, mappings.BadRequest("start", "the date has no range")
			}
			lo, hi := wallOf(v.Lo), wallOf(v.Hi)
			var from, to time.Time
			switch v.Prefix {
			case fhir.PrefixEq, "", fhir.PrefixAp:
				from, to = lo, hi
			case fhir.PrefixGe:
				from = lo
			case fhir.PrefixGt, fhir.PrefixSa:
				from = hi
			case fhir.PrefixLe:
				to = hi
			case fhir.PrefixLt, fhir.PrefixEb:
				to = lo
			case fhir.PrefixNe:
			default:
				return nil, mappings.BadRequest("start", "unknown date prefix %q", v.Prefix)
			}
			if !from.IsZero() && (q.from.IsZero() || from.After(q.from)) {
				q.from = from
			}
			if !to.IsZero() && (q.to.IsZero() || to.Before(q.to)) {
				q.to = to
			}
			q.starts = append(q.starts, v)
		case "status":
			var codes []string
			for _, v := range c.Values {
				if v.System != nil && *v.System != slotStatusSystem {
					continue
				}
				if !slices.Contains(slotStatusCodes, v.Code) {
					return nil, mappings.BadRequest("status", "%q is not a slot status (use free, busy or busy-unavailable)", v.Code)
				}
				codes = append(codes, v.Code)
			}
			if q.hasStatus {
				codes = slices.DeleteFunc(codes, func(c string) bool { return !slices.Contains(q.statuses, c) })
			}
			q.statuses, q.hasStatus = codes, true
		default:
			return nil, mappings.BadRequest(c.Param.Name, "Slot has no search parameter %q", c.Param.Name)
		}
	}
	if q.hasIDs {
		return q, nil
	}
	if !q.hasSched {
		return nil, mappings.BadRequest("schedule", "a Slot search needs schedule=Schedule/{id} (find the ids with a Schedule search), or _id")
	}
	example := "e.g. start=ge2026-06-15&start=lt2026-06-22"
	if q.from.IsZero() || q.to.IsZero() {
		return nil, mappings.BadRequest("start", "a Slot search needs a start range with both ends, of at most %d days (%s)", maxSlotDays, example)
	}
	if q.to.Sub(q.from) > maxSlotDays*24*time.Hour {
		return nil, mappings.BadRequest("start", "the start range is longer than %d days (%s)", maxSlotDays, example)
	}
	return q, nil
}

// days are the days whose slots the search needs.
func (q *slotQuery) days() []time.Time {
	var out []time.Time
	add := func(d time.Time) {
		if !slices.ContainsFunc(out, d.Equal) {
			out = append(out, d)
		}
	}
	if q.hasIDs {
		for _, k := range q.ids {
			add(k.day)
		}
		return out
	}
	last := q.to.Add(-time.Nanosecond)
	for d := time.Date(q.from.Year(), q.from.Month(), q.from.Day(), 0, 0, 0, 0, time.UTC); !d.After(last); d = d.AddDate(0, 0, 1) {
		add(d)
	}
	return out
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
	q, err := parseSlotSearch(s)
	if err != nil {
		return mappings.Query{}, err
	}
	b := &mappings.Builder{Dialect: d}
	data := slotData{Select: "SELECT", Count: count}
	one := ""
	if d.Engine() == mappings.EngineFirebird {
		one = " FROM RDB$DATABASE" // Firebird has no SELECT without FROM
	}

	days := q.days()
	if len(days) == 0 {
		days = []time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	}
	var rows []string
	for i, day := range days {
		dow := strconv.Itoa(isoDOW(day))
		if i == 0 && len(q.days()) == 0 {
			dow = "0" // no valid id: a day no session has
		}
		rows = append(rows, "    SELECT "+castParam(d, mappings.DayParam(b, day), "TIMESTAMP")+` AS "day", `+
			castParam(d, b.Param(mappings.ParamInt, dow), "INTEGER")+` AS "dow"`+one)
	}
	data.Days = strings.Join(rows, "\n    UNION ALL\n")

	schedules := q.schedules
	if q.hasIDs {
		schedules = nil
		for _, k := range q.ids {
			p := [2]int{k.doctor, k.branch}
			if !slices.Contains(schedules, p) && (!q.hasSched || slices.Contains(q.schedules, p)) {
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
	if q.hasIDs {
		var ps []string
		for _, k := range q.ids {
			ps = append(ps, `(g."doctor_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.doctor))+
				` AND g."branch_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.branch))+
				` AND g."day" = `+mappings.DayParam(b, k.day)+
				` AND g."secs" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.secs))+")")
		}
		if len(ps) == 0 {
			ps = []string{mappings.SQLFalse}
		}
		grid = append(grid, "("+strings.Join(ps, "\n       OR ")+")")
	}
	for _, v := range q.starts {
		grid = append(grid, slotStart(b, v))
	}
	for _, p := range grid {
		data.Grid += "\n      AND " + p
	}

	var where []string
	if q.hasStatus {
		if len(q.statuses) == 0 {
			where = append(where, mappings.SQLFalse)
		} else {
			var ps []string
			for _, c := range q.statuses {
				ps = append(ps, "'"+c+"'") // a code of slotStatusCodes, checked above
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
	var k slotKey
	ok := len(after) == 1
	if ok {
		k, ok = parseSlotID(after[0])
	}
	if !ok {
		return "", mappings.BadRequest("", "the paging cursor is not valid for this search; start the search again")
	}
	dr := b.Param(mappings.ParamInt, strconv.Itoa(k.doctor))
	br := b.Param(mappings.ParamInt, strconv.Itoa(k.branch))
	dy := mappings.DayParam(b, k.day)
	sc := b.Param(mappings.ParamInt, strconv.Itoa(k.secs))
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

func (c slotColumns) key() slotKey {
	d := c.Day.In(time.UTC)
	return slotKey{doctor: int(c.DoctorID), branch: int(c.BranchID), day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), secs: int(c.Secs)}
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
		Id:       mappings.Ptr(k.id()),
		Schedule: *mappings.Ref("Schedule", scheduleID(k.doctor, k.branch), ""),
		Status:   status,
		Start:    instant(c.Day, k.secs, site.Location),
		End:      instant(c.Day, k.secs+int(c.Length), site.Location),
	}
	raw, err := mappings.Marshal("Slot", fm.OtherSlot(sl))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: map[string][]string{"schedule": {scheduleID(k.doctor, k.branch)}}}, nil
}

func (r *slotResource) Cursor(row []byte) ([]string, error) {
	var c slotColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return nil, fmt.Errorf("zedmed: Slot row: %w", err)
	}
	return []string{c.key().id()}, nil
}
