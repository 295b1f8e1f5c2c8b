package bppremier

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

// scheduleActive is when a schedule is in use: its practitioner is active
// and has a weekly session there without an end date.
const scheduleActive = `(u."USERSTATUS" = 1 AND EXISTS (SELECT 1 FROM "SESSIONS" x WHERE x."RECORDSTATUS" = 1` +
	` AND x."USERID" = sc."USERID" AND x."LOCATIONID" = sc."LOCATIONID" AND x."ENDDATE" IS NULL))`

// scheduleKeyFactor combines a schedule's two keys into one integer sort
// key: USERID * factor + LOCATIONID, unique for locations below the factor
// and fitting an int for users below 21,474.
const scheduleKeyFactor = 100000

// Schedule is one practitioner's appointment book at one location: every
// practitioner and location with sessions. Its id is "{USERID}-{LOCATIONID}".
var Schedule = mappings.NewTable(mappings.TableSpec{
	Type: "Schedule",
	SQL:  scheduleSQL,
	Funcs: template.FuncMap{
		"clinical":       clinicalUser,
		"scheduleActive": func() string { return scheduleActive },
	},
	Params: []mappings.Param{
		{Name: "_id", Type: fhir.TypeToken, Doc: "{practitioner id}-{location id}",
			Match: mappings.MatchFunc(func(b *mappings.Builder, modifier string, v fhir.Value) (string, error) {
				if modifier != fhir.ModifierNone {
					return "", mappings.BadRequest("", "modifier :%s does not apply here", modifier)
				}
				user, loc, ok := mappings.ParseScheduleID(v.Code)
				if !ok {
					return mappings.SQLFalse, nil
				}
				return `(sc."USERID" = ` + b.Param(mappings.ParamInt, strconv.Itoa(user)) +
					` AND sc."LOCATIONID" = ` + b.Param(mappings.ParamInt, strconv.Itoa(loc)) + ")", nil
			})},
		{Name: "actor", Type: fhir.TypeReference, Targets: []string{"Location", "Practitioner"}, Doc: "The practitioner or the location",
			Match: mappings.References(
				mappings.RefTarget{Type: "Practitioner", Expr: `sc."USERID"`},
				mappings.RefTarget{Type: "Location", Expr: `sc."LOCATIONID"`})},
		{Name: "active", Type: fhir.TypeToken, Doc: "true: the practitioner is active with a weekly session there that has no end date",
			Match: mappings.Bool(scheduleActive, "NOT "+scheduleActive)},
	},
	Sorts: map[string]mappings.Sort{
		"_id": mappings.SortInt(`sc."USERID" * ` + strconv.Itoa(scheduleKeyFactor) + ` + sc."LOCATIONID"`),
	},
	DefaultCount: 50, MaxCount: 200,
	Row: scheduleRow,
})

type scheduleColumns struct {
	UserID       mappings.Int  `json:"user_id"`
	LocationID   mappings.Int  `json:"location_id"`
	UserTitle    mappings.Text `json:"user_title"`
	UserFirst    mappings.Text `json:"user_first"`
	UserFamily   mappings.Text `json:"user_family"`
	LocationName mappings.Text `json:"location_name"`
	Active       mappings.Int  `json:"active"`
}

func scheduleRow(row []byte, _ mappings.Site) (mappings.Row, error) {
	var c scheduleColumns
	if err := json.Unmarshal(row, &c); err != nil {
		return mappings.Row{}, err
	}
	who := mappings.PersonName(string(c.UserTitle), string(c.UserFirst), string(c.UserFamily))
	s := fm.Schedule{
		Id:     mappings.Ptr(mappings.ScheduleID(int(c.UserID), int(c.LocationID))),
		Active: mappings.Ptr(c.Active == 1),
		Actor: []fm.Reference{
			*mappings.Ref("Practitioner", c.UserID.ID(), who),
			*mappings.Ref("Location", c.LocationID.ID(), string(c.LocationName)),
		},
	}
	if who != "" && c.LocationName != "" {
		s.Comment = mappings.Ptr(who + " at " + string(c.LocationName))
	}
	raw, err := mappings.Marshal("Schedule", fm.OtherSchedule(s))
	if err != nil {
		return mappings.Row{}, err
	}
	// No _include: Row.Refs holds ids by parameter, and actor's are of two types.
	return mappings.Row{Resource: raw}, nil
}
