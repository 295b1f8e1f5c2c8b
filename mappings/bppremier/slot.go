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

// maxSlotDays bounds the start range of a slot search: the grid is
// computed for each day of it.
const maxSlotDays = 31

// slotStatusSystem is FHIR's slotstatus code system.
const slotStatusSystem = "http://hl7.org/fhir/slotstatus"

// slotStatuses is the slotstatus value set; free, busy and busy-unavailable
// are the statuses slots have here.
var slotStatuses = []string{"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}

// Slot is the computed slots of the schedules (slot.sql): not a table but a
// grid made on the fly from sessions, days away and appointments, for a
// bounded range of days. Its id is "{schedule id}-{YYYYMMDDhhmmss}", the
// schedule and the slot's start on the practice's wall clock, so that it is
// stable. A search needs schedule and a start range of at most
// maxSlotDays, or _id.
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
				Doc: fmt.Sprintf("The slot's start (required without _id): a range of at most %d days, e.g. start=ge2026-06-15&start=lt2026-06-22", maxSlotDays)},
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

// slotKey is a slot: its schedule and its start (day at midnight, seconds
// after it) on the practice's wall clock.
type slotKey struct {
	user, loc int
	day       time.Time
	secs      int
}

func (k slotKey) id() string {
	t := k.day.Add(time.Duration(k.secs) * time.Second)
	return scheduleID(k.user, k.loc) + "-" + t.Format("20060102150405")
}

// parseSlotID reads a slot id; ok is false for anything else.
func parseSlotID(id string) (k slotKey, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 || len(id)-i-1 != 14 {
		return k, false
	}
	if k.user, k.loc, ok = parseScheduleID(id[:i]); !ok {
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

// slotSearch is a slot search worked out from its clauses.
type slotSearch struct {
	ids       []slotKey
	hasIDs    bool
	schedules [][2]int
	hasSched  bool
	from, to  time.Time // the start range's wall clock; zero when open
	starts    []fhir.Value
	statuses  []string
	hasStatus bool
}

func (r *slotResource) parse(s *fhir.Search) (*slotSearch, error) {
	q := &slotSearch{}
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
			if q.hasIDs { // _id twice: both must match
				ids = slices.DeleteFunc(ids, func(k slotKey) bool { return !slices.Contains(q.ids, k) })
			}
			q.ids, q.hasIDs = ids, true
		case "schedule":
			sched := [][2]int{}
			for _, v := range c.Values {
				if v.RefType != "" && v.RefType != "Schedule" {
					continue
				}
				if u, l, ok := parseScheduleID(v.RefID); ok {
					sched = append(sched, [2]int{u, l})
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
				if !slices.Contains(slotStatuses, v.Code) {
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
		return nil, mappings.BadRequest("start", "the start range is longer than the maximum of %d days: search at most %d days at a time (%s)", maxSlotDays, maxSlotDays, example)
	}
	return q, nil
}

// wallOf is t's wall clock, as a UTC time.
func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// days are the days whose slots the search needs: those of its ids, or
// each day of its start range.
func (q *slotSearch) days() []time.Time {
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
	q, err := r.parse(s)
	if err != nil {
		return mappings.Query{}, err
	}
	b := &mappings.Builder{Dialect: d}
	data := slotData{Select: "SELECT", Count: count}

	// The days, and the schedules whose sessions are cut into slots.
	days := q.days()
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
	if q.hasSched {
		schedules = q.schedules
	}
	if q.hasIDs {
		var fromIDs [][2]int
		for _, k := range q.ids {
			p := [2]int{k.user, k.loc}
			if !slices.Contains(fromIDs, p) && (!q.hasSched || slices.Contains(q.schedules, p)) {
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
	if q.hasIDs {
		var parts []string
		for _, k := range q.ids {
			parts = append(parts, `(g."user_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.user))+
				` AND g."location_id" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.loc))+
				` AND g."day" = `+mappings.DayParam(b, k.day)+
				` AND g."secs" = `+b.Param(mappings.ParamInt, strconv.Itoa(k.secs))+")")
		}
		if len(parts) == 0 {
			parts = []string{mappings.SQLFalse}
		}
		grid = append(grid, "("+strings.Join(parts, "\n       OR ")+")")
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
	var k slotKey
	ok := len(after) == 1
	if ok {
		k, ok = parseSlotID(after[0])
	}
	if !ok {
		return "", mappings.BadRequest("", "the paging cursor is not valid for this search; start the search again")
	}
	u := b.Param(mappings.ParamInt, strconv.Itoa(k.user))
	l := b.Param(mappings.ParamInt, strconv.Itoa(k.loc))
	d := mappings.DayParam(b, k.day)
	s := b.Param(mappings.ParamInt, strconv.Itoa(k.secs))
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

func (c slotColumns) key() slotKey {
	d := c.Day.In(time.UTC)
	return slotKey{user: int(c.UserID), loc: int(c.LocationID), day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), secs: int(c.Secs)}
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
		Id:       mappings.Ptr(k.id()),
		Schedule: *mappings.Ref("Schedule", scheduleID(k.user, k.loc), ""),
		Status:   status,
		Start:    instant(c.Day, k.secs, site.Location),
		End:      instant(c.Day, k.secs+int(c.Length), site.Location),
	}
	raw, err := mappings.Marshal("Slot", fm.OtherSlot(sl))
	if err != nil {
		return mappings.Row{}, err
	}
	return mappings.Row{Resource: raw, Refs: map[string][]string{"schedule": {scheduleID(k.user, k.loc)}}}, nil
}

// Cursor implements mappings.Resource: the slot's id.
func (r *slotResource) Cursor(row []byte) ([]string, error) {
	var c slotColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return nil, fmt.Errorf("mappings: Slot row: %w", err)
	}
	return []string{c.key().id()}, nil
}
