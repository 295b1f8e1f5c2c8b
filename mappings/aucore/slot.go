package aucore

import (
	"fmt"
	"strconv"
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// Slots are computed by each PMS from its sessions, days away and
// appointments: the SQL that makes the grid is the PMS's own, and so is a
// Slot resource's rendering of it. What a Slot search declares, the
// canonical grid row (grid rows g, slot rows t: practitioner_id,
// location_id, day, secs, length, status) and the row → Slot function are
// here.

// SlotDecl is Slot's search surface: _id, schedule, start and status. A
// search needs schedule and a start range of at most
// mappings.MaxSlotDays, or _id (mappings.ParseSlotSearch).
func SlotDecl() fhir.ResourceDecl {
	return fhir.ResourceDecl{
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
	}
}

// SlotRow is Slot's canonical row.
type SlotRow struct {
	PractitionerID mappings.Int  `json:"practitioner_id"`
	LocationID     mappings.Int  `json:"location_id"`
	Day            mappings.Wall `json:"day"`
	Secs           mappings.Int  `json:"secs"`
	Length         mappings.Int  `json:"length"`
	Status         mappings.Text `json:"status"`
}

func (c SlotRow) key() mappings.SlotKey {
	d := c.Day.In(time.UTC)
	return mappings.SlotKey{Owner: int(c.PractitionerID), Loc: int(c.LocationID),
		Day: time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC), Secs: int(c.Secs)}
}

// SlotStart is the predicate of one start value on the grid row g: the
// slot's start is a point in time.
func SlotStart(b *mappings.Builder, v fhir.Value) string {
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

// SlotAfter is "after the cursor's slot" on the slot row t, in the
// search's order (schedule, then start).
func SlotAfter(b *mappings.Builder, after []string) (string, error) {
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
	return `(t."practitioner_id" > ` + u + ` OR (t."practitioner_id" = ` + u + ` AND (t."location_id" > ` + l + ` OR (t."location_id" = ` + l +
		` AND (t."day" > ` + d + ` OR (t."day" = ` + d + ` AND t."secs" > ` + s + `))))))`, nil
}

// SlotOf turns one slot row into the Slot.
func SlotOf(row []byte, site mappings.Site) (mappings.Row, error) {
	var c SlotRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, fmt.Errorf("mappings: Slot row: %w", err)
	}
	if c.Day.IsZero() {
		return mappings.Row{}, fmt.Errorf("mappings: Slot row without a day")
	}
	k := c.key()
	status := "free"
	switch c.Status {
	case "busy", "busy-unavailable":
		status = string(c.Status)
	}
	id, schedule := k.ID(), mappings.ScheduleID(k.Owner, k.Loc)
	w := mappings.NewResource("Slot")
	w.String("id", id)
	w.Ref("schedule", "Schedule", schedule, "")
	w.String("status", status)
	w.InstantAt("start", c.Day, k.Secs, site.Location)
	w.InstantAt("end", c.Day, k.Secs+int(c.Length), site.Location)
	return mappings.Row{ID: id, Resource: w.Bytes(), Refs: map[string][]string{"schedule": {schedule}}}, nil
}

// SlotCursor is a slot row's cursor: the slot's id.
func SlotCursor(row []byte) ([]string, error) {
	var c SlotRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return nil, fmt.Errorf("mappings: Slot row: %w", err)
	}
	return []string{c.key().ID()}, nil
}
