package zedmed

import (
	_ "embed"
	"encoding/json"
	"strconv"
	"text/template"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

//go:embed schedule.sql
var scheduleSQL string

// The derived table sc of schedule.sql has the columns DOCTOR_ID and BRANCH_ID (its own
// aliases, not schema names).
const (
	scDoctor = "sc.DOCTOR_ID"
	scBranch = "sc.BRANCH_ID"
)

// scheduleActive is when a schedule is in use: its doctor is active and has a session
// template there with no end date.
func scheduleActive() string {
	s := func(n string) string { return col("x", "SESSION_TEMPLATE."+n) }
	return "(" + doctorIsActive + " AND EXISTS (SELECT 1 FROM " + tbl("SESSION_TEMPLATE") + " x WHERE " + live("x", "SESSION_TEMPLATE") +
		" AND " + s("DOCTOR_ID") + " = " + scDoctor + " AND " + s("BRANCH_ID") + " = " + scBranch + " AND " + s("VALID_TO") + " IS NULL))"
}

// scheduleKeyFactor combines a schedule's two keys into one integer sort key.
const scheduleKeyFactor = 100000

// Schedule is one doctor's appointment book at one branch: every practitioner and branch with
// session templates. Its id is "{DOCTOR_ID}-{BRANCH_ID}".
var Schedule = mappings.NewTable(mappings.TableSpec{
	Type:  "Schedule",
	SQL:   scheduleSQL,
	Funcs: withFuncs(template.FuncMap{"scheduleActive": scheduleActive}),
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "{practitioner id}-{location id}",
			Match: mappings.MatchFunc(func(b *mappings.Builder, modifier string, v fhir.Value) (string, error) {
				if modifier != fhir.ModifierNone {
					return "", mappings.BadRequest("", "modifier :%s does not apply here", modifier)
				}
				doc, branch, ok := mappings.ParseScheduleID(v.Code)
				if !ok {
					return mappings.SQLFalse, nil
				}
				return "(" + scDoctor + " = " + b.Param(mappings.ParamInt, strconv.Itoa(doc)) +
					" AND " + scBranch + " = " + b.Param(mappings.ParamInt, strconv.Itoa(branch)) + ")", nil
			})},
		{Name: "actor", Type: fhir.TypeReference, Targets: []string{"Location", "Practitioner"}, Doc: "The practitioner or the location",
			Match: mappings.References(
				mappings.RefTarget{Type: "Practitioner", Expr: scDoctor},
				mappings.RefTarget{Type: "Location", Expr: scBranch})},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: the doctor is active with a session template there that has no end date",
			Match: mappings.Bool(scheduleActive(), "NOT "+scheduleActive())},
	},
	Sorts: map[string]mappings.Sort{
		"_id": mappings.SortInt(scDoctor + " * " + strconv.Itoa(scheduleKeyFactor) + " + " + scBranch),
	},
	DefaultCount: 50, MaxCount: 200,
	Row: scheduleRow,
})

type scheduleColumns struct {
	DoctorID     mappings.Int  `json:"doctor_id"`
	LocationID   mappings.Int  `json:"location_id"`
	DoctorTitle  mappings.Text `json:"doctor_title"`
	DoctorFirst  mappings.Text `json:"doctor_first"`
	DoctorFamily mappings.Text `json:"doctor_family"`
	LocationName mappings.Text `json:"location_name"`
	Active       mappings.Int  `json:"active"`
}

func scheduleRow(row []byte, _ mappings.Site) (mappings.Row, error) {
	var c scheduleColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	who := mappings.PersonName(string(c.DoctorTitle), string(c.DoctorFirst), string(c.DoctorFamily))
	s := fm.Schedule{
		Id:     mappings.Ptr(mappings.ScheduleID(int(c.DoctorID), int(c.LocationID))),
		Active: mappings.Ptr(c.Active == 1),
		Actor: []fm.Reference{
			*mappings.Ref("Practitioner", c.DoctorID.ID(), who),
			*mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName)),
		},
	}
	if who != "" && c.LocationName != "" {
		s.Comment = mappings.Ptr(who + " at " + string(c.LocationName))
	}
	raw, err := mappings.Marshal("Schedule", fm.OtherSchedule(s))
	return mappings.Row{Resource: raw}, err
}
