package bppremier

// The scheduling resources' search shapes: golden T-SQL (TestGolden) and
// real runs on PostgreSQL and SQLite (testShapes), added to shapes here so
// that golden_test.go's list stays the other resources'.
func init() {
	shapes = append(shapes, schedulingShapes...)
}

var schedulingShapes = []shape{
	// Appointment.
	{name: "appointment-read", res: Appointment, query: "_id=42"},
	{name: "appointment-date-day", res: Appointment, query: "date=2026-06-15"},
	{name: "appointment-date-range", res: Appointment, query: "date=ge2026-06-15T09:00&date=lt2026-06-15T12:00"},
	{name: "appointment-date-prefixes", res: Appointment, query: "date=ne2026-06-15&date=gt2026-06-01&date=le2026-07&date=sa2026-05-31&date=eb2026-08-01"},
	{name: "appointment-date-ap", res: Appointment, query: "date=ap2026-06-15"},
	{name: "appointment-date-offset", res: Appointment, query: "date=ge2026-04-05T01:00:00Z"},
	{name: "appointment-patient", res: Appointment, query: "patient=Patient/12&_sort=date"},
	{name: "appointment-practitioner-date", res: Appointment, query: "practitioner=3&date=2026-06-15&_sort=date&_include=Appointment:patient&_include=Appointment:practitioner"},
	{name: "appointment-location", res: Appointment, query: "location=Location/1&_include=Appointment:location"},
	{name: "appointment-actor", res: Appointment, query: "actor=Practitioner/3,Patient/12,7"},
	{name: "appointment-actor-typed", res: Appointment, query: "actor:Location=1"},
	{name: "appointment-status", res: Appointment, query: "status=booked,arrived"},
	{name: "appointment-status-other", res: Appointment, query: "status=fulfilled,noshow,cancelled,proposed"},
	{name: "appointment-status-not", res: Appointment, query: "status:not=cancelled"},
	{name: "appointment-sort-date-next-page", res: Appointment, query: "date=2026-06&_sort=date&_count=10", after: []string{"2026-06-15T09:00:00", "42"}},
	{name: "appointment-count", res: Appointment, query: "date=2026-06-15&_summary=count", count: true},

	// Schedule.
	{name: "schedule-read", res: Schedule, query: "_id=3-1"},
	{name: "schedule-all", res: Schedule, query: ""},
	{name: "schedule-actor", res: Schedule, query: "actor=Practitioner/3"},
	{name: "schedule-actor-location", res: Schedule, query: "actor=Location/2&active=true"},
	{name: "schedule-next-page", res: Schedule, query: "_count=5", after: []string{"300001"}},

	// Slot.
	{name: "slot-read", res: Slot, query: "_id=3-1-20260615090000"},
	{name: "slot-week-free", res: Slot, query: "schedule=Schedule/3-1&start=ge2026-06-15&start=lt2026-06-22&status=free&_include=Slot:schedule"},
	{name: "slot-day", res: Slot, query: "schedule=3-1&start=2026-06-15"},
	{name: "slot-two-schedules", res: Slot, query: "schedule=Schedule/3-1,Schedule/4-2&start=ge2026-06-15T12:00&start=le2026-06-16&status=busy,busy-unavailable"},
	{name: "slot-next-page", res: Slot, query: "schedule=Schedule/3-1&start=ge2026-06-15&start=lt2026-06-22&_count=10", after: []string{"3-1-20260615093000"}},
	{name: "slot-count", res: Slot, query: "schedule=Schedule/3-1&start=2026-06&_summary=count", count: true},
}
