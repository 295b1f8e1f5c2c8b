package bppremier

import "fhirlink/mappings/mappingstest"

// The scheduling resources' search shapes: golden T-SQL (TestGolden) and
// real runs on PostgreSQL and SQLite (testShapes), added to shapes here so
// that golden_test.go's list stays the other resources'.
func init() {
	shapes = append(shapes, schedulingShapes...)
}

var schedulingShapes = []mappingstest.Shape{
	// Appointment.
	{Name: "appointment-read", Res: Appointment, Query: "_id=42"},
	{Name: "appointment-date-day", Res: Appointment, Query: "date=2026-06-15"},
	{Name: "appointment-date-range", Res: Appointment, Query: "date=ge2026-06-15T09:00&date=lt2026-06-15T12:00"},
	{Name: "appointment-date-prefixes", Res: Appointment, Query: "date=ne2026-06-15&date=gt2026-06-01&date=le2026-07&date=sa2026-05-31&date=eb2026-08-01"},
	{Name: "appointment-date-ap", Res: Appointment, Query: "date=ap2026-06-15"},
	{Name: "appointment-date-offset", Res: Appointment, Query: "date=ge2026-04-05T01:00:00Z"},
	{Name: "appointment-patient", Res: Appointment, Query: "patient=Patient/12&_sort=date"},
	{Name: "appointment-practitioner-date", Res: Appointment, Query: "practitioner=3&date=2026-06-15&_sort=date&_include=Appointment:patient&_include=Appointment:practitioner"},
	{Name: "appointment-location", Res: Appointment, Query: "location=Location/1&_include=Appointment:location"},
	{Name: "appointment-actor", Res: Appointment, Query: "actor=Practitioner/3,Patient/12,7"},
	{Name: "appointment-actor-typed", Res: Appointment, Query: "actor:Location=1"},
	{Name: "appointment-status", Res: Appointment, Query: "status=booked,arrived"},
	{Name: "appointment-status-other", Res: Appointment, Query: "status=fulfilled,noshow,cancelled,proposed"},
	{Name: "appointment-status-not", Res: Appointment, Query: "status:not=cancelled"},
	{Name: "appointment-sort-date-next-page", Res: Appointment, Query: "date=2026-06&_sort=date&_count=10", After: []string{"2026-06-15T09:00:00", "42"}},
	{Name: "appointment-count", Res: Appointment, Query: "date=2026-06-15&_summary=count", Count: true},

	// Schedule.
	{Name: "schedule-read", Res: Schedule, Query: "_id=3-1"},
	{Name: "schedule-all", Res: Schedule, Query: ""},
	{Name: "schedule-actor", Res: Schedule, Query: "actor=Practitioner/3"},
	{Name: "schedule-actor-location", Res: Schedule, Query: "actor=Location/2&active=true"},
	{Name: "schedule-next-page", Res: Schedule, Query: "_count=5", After: []string{"300001"}},

	// Slot.
	{Name: "slot-read", Res: Slot, Query: "_id=3-1-20260615090000"},
	{Name: "slot-week-free", Res: Slot, Query: "schedule=Schedule/3-1&start=ge2026-06-15&start=lt2026-06-22&status=free&_include=Slot:schedule"},
	{Name: "slot-day", Res: Slot, Query: "schedule=3-1&start=2026-06-15"},
	{Name: "slot-two-schedules", Res: Slot, Query: "schedule=Schedule/3-1,Schedule/4-2&start=ge2026-06-15T12:00&start=le2026-06-16&status=busy,busy-unavailable"},
	{Name: "slot-next-page", Res: Slot, Query: "schedule=Schedule/3-1&start=ge2026-06-15&start=lt2026-06-22&_count=10", After: []string{"3-1-20260615093000"}},
	{Name: "slot-count", Res: Slot, Query: "schedule=Schedule/3-1&start=2026-06&_summary=count", Count: true},
}
