package mappings

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"fhirlink/fhir"
)

// Slots are computed by each PMS mapping from its sessions and
// appointments; what a Slot search means, and how schedules and slots are
// identified, is the same for every PMS and lives here.

// MaxSlotDays bounds the start range of a slot search: the grid is
// computed for each day of it.
const MaxSlotDays = 31

// SlotStatusSystem is FHIR's slotstatus code system.
const SlotStatusSystem = "http://hl7.org/fhir/slotstatus"

// SlotStatuses is FHIR's slotstatus value set.
var SlotStatuses = []string{"busy", "free", "busy-unavailable", "busy-tentative", "entered-in-error"}

// ScheduleID is a Schedule's id: "{practitioner id}-{location id}".
func ScheduleID(owner, loc int) string { return strconv.Itoa(owner) + "-" + strconv.Itoa(loc) }

// ParseScheduleID reads a Schedule id (canonical non-negative 32-bit
// integers); ok is false for anything else.
func ParseScheduleID(id string) (owner, loc int, ok bool) {
	o, l, found := strings.Cut(id, "-")
	if !found {
		return 0, 0, false
	}
	owner, ok1 := canonicalInt(o)
	loc, ok2 := canonicalInt(l)
	return owner, loc, ok1 && ok2
}

// canonicalInt reads a 32-bit non-negative integer written without sign or
// leading zeros.
func canonicalInt(s string) (int, bool) {
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != s {
		return 0, false
	}
	return int(n), true
}

// SlotKey is a slot: its schedule and its start (day at midnight, seconds
// after it) on the practice's wall clock.
type SlotKey struct {
	Owner, Loc int
	Day        time.Time
	Secs       int
}

// ID is the slot's id: "{schedule id}-{YYYYMMDDhhmmss}", stable because it
// names the schedule and the start on the practice's wall clock.
func (k SlotKey) ID() string {
	t := k.Day.Add(time.Duration(k.Secs) * time.Second)
	return ScheduleID(k.Owner, k.Loc) + "-" + t.Format("20060102150405")
}

// ParseSlotID reads a slot id; ok is false for anything else.
func ParseSlotID(id string) (k SlotKey, ok bool) {
	i := strings.LastIndexByte(id, '-')
	if i < 0 || len(id)-i-1 != 14 {
		return k, false
	}
	if k.Owner, k.Loc, ok = ParseScheduleID(id[:i]); !ok {
		return k, false
	}
	t, err := time.Parse("20060102150405", id[i+1:])
	if err != nil {
		return k, false
	}
	k.Day = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	k.Secs = t.Hour()*3600 + t.Minute()*60 + t.Second()
	return k, true
}

// SlotSearch is a slot search worked out from its clauses.
type SlotSearch struct {
	IDs       []SlotKey
	HasIDs    bool
	Schedules [][2]int
	HasSched  bool
	From, To  time.Time // the start range's wall clock; zero when open
	Starts    []fhir.Value
	Statuses  []string
	HasStatus bool
}

// ParseSlotSearch works a Slot search out from its clauses: _id, schedule,
// start (a bounded range of at most MaxSlotDays) and status. The SQL that
// computes the grid is each PMS's own; the search semantics are shared.
func ParseSlotSearch(s *fhir.Search) (*SlotSearch, error) {
	q := &SlotSearch{}
	for _, c := range s.Clauses {
		if c.Modifier != fhir.ModifierNone {
			return nil, BadRequest(c.Param.Name, "modifier :%s is not supported on Slot searches", c.Modifier)
		}
		switch c.Param.Name {
		case "_id":
			ids := []SlotKey{}
			for _, v := range c.Values {
				if k, ok := ParseSlotID(v.Code); ok {
					ids = append(ids, k)
				}
			}
			if q.HasIDs { // _id twice: both must match
				ids = slices.DeleteFunc(ids, func(k SlotKey) bool { return !slices.Contains(q.IDs, k) })
			}
			q.IDs, q.HasIDs = ids, true
		case "schedule":
			sched := [][2]int{}
			for _, v := range c.Values {
				if v.RefType != "" && v.RefType != "Schedule" {
					continue
				}
				if u, l, ok := ParseScheduleID(v.RefID); ok {
					sched = append(sched, [2]int{u, l})
				}
			}
			if q.HasSched {
				sched = slices.DeleteFunc(sched, func(p [2]int) bool { return !slices.Contains(q.Schedules, p) })
			}
			q.Schedules, q.HasSched = sched, true
		case "start":
			if len(c.Values) != 1 {
				return nil, BadRequest("start", "give one value per start parameter (e.g. start=ge2026-06-15&start=lt2026-06-22), not a list")
			}
			v := c.Values[0]
			if v.Lo.IsZero() || v.Hi.IsZero() || !v.Lo.Before(v.Hi) {
				return nil, BadRequest("start", "the date has no range")
			}
			lo, hi := WallOf(v.Lo), WallOf(v.Hi)
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
				return nil, BadRequest("start", "unknown date prefix %q", v.Prefix)
			}
			if !from.IsZero() && (q.From.IsZero() || from.After(q.From)) {
				q.From = from
			}
			if !to.IsZero() && (q.To.IsZero() || to.Before(q.To)) {
				q.To = to
			}
			q.Starts = append(q.Starts, v)
		case "status":
			var codes []string
			for _, v := range c.Values {
				if v.System != nil && *v.System != SlotStatusSystem {
					continue
				}
				if !slices.Contains(SlotStatuses, v.Code) {
					return nil, BadRequest("status", "%q is not a slot status (use free, busy or busy-unavailable)", v.Code)
				}
				codes = append(codes, v.Code)
			}
			if q.HasStatus {
				codes = slices.DeleteFunc(codes, func(c string) bool { return !slices.Contains(q.Statuses, c) })
			}
			q.Statuses, q.HasStatus = codes, true
		default:
			return nil, BadRequest(c.Param.Name, "Slot has no search parameter %q", c.Param.Name)
		}
	}
	if q.HasIDs {
		return q, nil
	}
	if !q.HasSched {
		return nil, BadRequest("schedule", "a Slot search needs schedule=Schedule/{id} (find the ids with a Schedule search), or _id")
	}
	example := "e.g. start=ge2026-06-15&start=lt2026-06-22"
	if q.From.IsZero() || q.To.IsZero() {
		return nil, BadRequest("start", "a Slot search needs a start range with both ends, of at most %d days (%s)", MaxSlotDays, example)
	}
	if q.To.Sub(q.From) > MaxSlotDays*24*time.Hour {
		return nil, BadRequest("start", "the start range is longer than the maximum of %d days: search at most %d days at a time (%s)", MaxSlotDays, MaxSlotDays, example)
	}
	return q, nil
}

// WallOf is t's wall clock, as a UTC time.
func WallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// Days are the days whose slots the search needs: those of its ids, or
// each day of its start range.
func (q *SlotSearch) Days() []time.Time {
	var out []time.Time
	add := func(d time.Time) {
		if !slices.ContainsFunc(out, d.Equal) {
			out = append(out, d)
		}
	}
	if q.HasIDs {
		for _, k := range q.IDs {
			add(k.Day)
		}
		return out
	}
	last := q.To.Add(-time.Nanosecond)
	for d := time.Date(q.From.Year(), q.From.Month(), q.From.Day(), 0, 0, 0, 0, time.UTC); !d.After(last); d = d.AddDate(0, 0, 1) {
		add(d)
	}
	return out
}
