package aucore

import (
	"strconv"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// ScheduleRow is Schedule's canonical row: one practitioner's appointment
// book at one location.
type ScheduleRow struct {
	PractitionerID     mappings.Int  `json:"practitioner_id"`
	LocationID         mappings.Int  `json:"location_id"`
	PractitionerTitle  mappings.Text `json:"practitioner_title"`
	PractitionerFirst  mappings.Text `json:"practitioner_first"`
	PractitionerFamily mappings.Text `json:"practitioner_family"`
	LocationName       mappings.Text `json:"location_name"`
	Active             mappings.Int  `json:"active"` // 1 when in_use holds
}

// scheduleKeyFactor combines a schedule's two keys into one integer sort
// key: practitioner * factor + location, unique for locations below the
// factor and fitting an int for practitioners below 21,474.
const scheduleKeyFactor = 100000

// Schedule is FHIR Schedule: every practitioner and location with
// sessions. Its id is "{practitioner id}-{location id}" (ScheduleID). The
// PMS maps in_use, the predicate of a schedule in use, beside the active
// column it makes 1 or 0.
var Schedule = &mappings.Def[struct{}]{
	Type:    "Schedule",
	Columns: mappings.ColumnsOf[ScheduleRow](),
	Filters: []string{"in_use"},
	Params: []mappings.ParamDef[struct{}]{
		{Name: "_id", Type: fhir.TypeToken, Doc: "{practitioner id}-{location id}",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.MatchFunc(func(b *mappings.Builder, modifier string, v fhir.Value) (string, error) {
					if modifier != fhir.ModifierNone {
						return "", mappings.BadRequest("", "modifier :%s does not apply here", modifier)
					}
					who, loc, ok := mappings.ParseScheduleID(v.Code)
					if !ok {
						return mappings.SQLFalse, nil
					}
					return "(" + c.Col("practitioner_id") + " = " + b.Param(mappings.ParamInt, strconv.Itoa(who)) +
						" AND " + c.Col("location_id") + " = " + b.Param(mappings.ParamInt, strconv.Itoa(loc)) + ")", nil
				})
			}},
		{Name: "actor", Type: fhir.TypeReference, Targets: []string{"Location", "Practitioner"}, Doc: "The practitioner or the location",
			Match: func(c mappings.Cols) mappings.Matcher {
				return mappings.References(
					mappings.RefTarget{Type: "Practitioner", Expr: c.Col("practitioner_id")},
					mappings.RefTarget{Type: "Location", Expr: c.Col("location_id")})
			}},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: the practitioner is active with a regular session there that has no end date",
			Match: func(c mappings.Cols) mappings.Matcher { return mappings.Bool(c.Col("in_use"), "NOT "+c.Col("in_use")) }},
	},
	Sorts: []mappings.SortDef{{Name: "_id", Sort: func(c mappings.Cols) mappings.Sort {
		return mappings.SortInt(c.Col("practitioner_id") + " * " + strconv.Itoa(scheduleKeyFactor) + " + " + c.Col("location_id"))
	}}},
	DefaultCount: 50, MaxCount: 200,
	Row: scheduleRow,
}

func scheduleRow(_ struct{}, row []byte, _ mappings.Site) (mappings.Row, error) {
	var c ScheduleRow
	if err := mappings.DecodeRow(row, &c); err != nil {
		return mappings.Row{}, err
	}
	who := mappings.PersonName(string(c.PractitionerTitle), string(c.PractitionerFirst), string(c.PractitionerFamily))
	id := mappings.ScheduleID(int(c.PractitionerID), int(c.LocationID))
	w := mappings.NewResource("Schedule")
	w.String("id", id)
	w.Bool("active", c.Active == 1)
	w.Array("actor")
	w.Ref("", "Practitioner", c.PractitionerID.ID(), who)
	w.Ref("", "Location", c.LocationID.ID(), string(c.LocationName))
	w.End()
	if who != "" && c.LocationName != "" {
		w.Joined("comment", who, " at ", string(c.LocationName))
	}
	// No _include: Row.Refs holds ids by parameter, and actor's are of two types.
	return mappings.Row{ID: id, Resource: w.Bytes()}, nil
}
