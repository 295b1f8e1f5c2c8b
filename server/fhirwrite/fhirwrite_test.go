package fhirwrite

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"fhirlink/fhir"
	"fhirlink/mappings"
)

// The checks that need no practice: what a write refuses before anything
// is sent. The whole path is tested end to end in server/api.

func status(err error) int {
	if fe, ok := errors.AsType[*fhir.Error](err); ok {
		return fe.Status
	}
	return 0
}

func TestParsePatient(t *testing.T) {
	p, err := parsePatient([]byte(`{"resourceType":"Patient","name":[{"family":" Nguyen ","given":["Thi","Mai","Anh"]}],"birthDate":"1990-01-31",
		"gender":"unknown","telecom":[{"system":"phone","value":"02 9999 0000"},{"system":"phone","value":"0400 000 000","use":"mobile"}],
		"identifier":[{"system":"http://ns.electronichealth.net.au/id/medicare-number","value":"2950 10120 1"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := mappings.NewPatient{Family: "Nguyen", Given: "Thi", Middle: "Mai Anh", BirthDate: time.Date(1990, 1, 31, 0, 0, 0, 0, time.UTC),
		HomePhone: "02 9999 0000", MobilePhone: "0400 000 000", Medicare: "2950101201"}
	if p != want {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	for body, want := range map[string]string{
		`{"resourceType":"Patient","name":[{"family":""}]}`:                                                                            "Patient.name.family",
		`{"resourceType":"Patient","name":[{"family":"` + strings.Repeat("x", 41) + `"}]}`:                                             "Patient.name.family: the practice system keeps at most 40",
		`{"resourceType":"Patient","name":[{"family":"A"}],"birthDate":"2999-01-01"}`:                                                  "in the future",
		`{"resourceType":"Patient","name":[{"family":"A"}],"address":[{"postalCode":"NSW"}]}`:                                          "postalCode",
		`{"resourceType":"Patient","name":[{"family":"A"}],"telecom":[{"system":"email","value":"` + strings.Repeat("e", 101) + `"}]}`: "email",
	} {
		if _, err := parsePatient([]byte(body)); status(err) != http.StatusUnprocessableEntity || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want a 422 saying %q", body, err, want)
		}
	}
}

func TestFills(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 6, 16, h, m, 0, 0, time.UTC) }
	sl := func(h, m int, status string) slot {
		return slot{key: mappings.SlotKey{Owner: 3, Loc: 1}, id: "x", status: status, start: at(h, m), end: at(h, m+15)}
	}
	ok := []slot{sl(9, 0, "free"), sl(9, 15, "free")}
	if err := fills(ok, 3, 0, at(9, 0), at(9, 30), nil); err != nil {
		t.Errorf("two consecutive free slots: %v", err)
	}
	for name, c := range map[string]struct {
		slots      []slot
		start, end time.Time
		own        *period
		want       int
	}{
		"not on the grid": {ok, at(9, 5), at(9, 30), nil, http.StatusUnprocessableEntity},
		"a gap":           {[]slot{sl(9, 0, "free"), sl(9, 30, "free")}, at(9, 0), at(9, 45), nil, http.StatusUnprocessableEntity},
		// a booking of a busy slot is the procedure's to refuse (a retry
		// under an Idempotency-Key sees its own first run there)
		"taken, booked":       {[]slot{sl(9, 0, "free"), sl(9, 15, "busy")}, at(9, 0), at(9, 30), nil, 0},
		"taken, moved":        {[]slot{sl(9, 0, "free"), sl(9, 15, "busy")}, at(9, 0), at(9, 30), &period{at(10, 0), at(10, 30)}, http.StatusConflict},
		"blocked":             {[]slot{sl(9, 0, "busy-unavailable")}, at(9, 0), at(9, 15), nil, http.StatusUnprocessableEntity},
		"one free slot":       {[]slot{sl(9, 0, "free")}, at(9, 0), at(9, 15), nil, 0},
		"own time, moved":     {[]slot{sl(9, 0, "busy"), sl(9, 15, "free")}, at(9, 0), at(9, 30), &period{at(8, 45), at(9, 15)}, 0},
		"taken, moved beside": {[]slot{sl(9, 0, "busy")}, at(9, 0), at(9, 15), &period{at(8, 30), at(9, 0)}, http.StatusConflict},
	} {
		err := fills(c.slots, 3, 0, c.start, c.end, c.own)
		if status(err) != c.want {
			t.Errorf("%s: %v; want status %d", name, err, c.want)
		}
	}
	if err := fills(ok, 4, 0, at(9, 0), at(9, 30), nil); status(err) != http.StatusUnprocessableEntity {
		t.Errorf("another practitioner's slots: %v", err)
	}
}

func TestETag(t *testing.T) {
	for res, want := range map[string]string{
		`{"meta":{"versionId":"3","lastUpdated":"2026-01-01T00:00:00Z"}}`: `W/"3"`,
		`{"meta":{"lastUpdated":"2026-01-01T00:00:00+11:00"}}`:            `W/"2026-01-01T00:00:00+11:00"`,
		`{"id":"1"}`: "",
	} {
		if got := ETag([]byte(res)); got != want {
			t.Errorf("ETag(%s) = %q, want %q", res, got, want)
		}
	}
}

func TestFHIRPathPatch(t *testing.T) {
	p, err := fhirPathPatch("Appointment", []byte(`{"resourceType":"Parameters","parameter":[
		{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Appointment.status"},{"name":"value","valueCode":"cancelled"}]},
		{"name":"operation","part":[{"name":"type","valueCode":"add"},{"name":"path","valueString":"Appointment"},{"name":"name","valueString":"cancelationReason"},
			{"name":"value","valueCodeableConcept":{"text":"Unwell"}}]},
		{"name":"operation","part":[{"name":"type","valueCode":"delete"},{"name":"path","valueString":"Appointment.comment"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Apply([]byte(`{"resourceType":"Appointment","status":"booked","comment":"x"}`))
	if err != nil || !sameJSON(got, []byte(`{"resourceType":"Appointment","status":"cancelled","cancelationReason":{"text":"Unwell"}}`)) {
		t.Errorf("applied: %s %v", got, err)
	}
	for _, bad := range []string{
		`{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Appointment.participant[0].status"},{"name":"value","valueCode":"declined"}]}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"move"},{"name":"path","valueString":"Appointment.status"}]}]}`,
		`{"resourceType":"Parameters","parameter":[{"name":"operation","part":[{"name":"type","valueCode":"replace"},{"name":"path","valueString":"Appointment.status"}]}]}`,
	} {
		if _, err := fhirPathPatch("Appointment", []byte(bad)); status(err) != http.StatusUnprocessableEntity {
			t.Errorf("%s: %v; want a 422", bad, err)
		}
	}
	if _, err := fhirPathPatch("Appointment", []byte(`{"resourceType":"Appointment"}`)); status(err) != http.StatusBadRequest {
		t.Errorf("not Parameters: %v", err)
	}
}
