package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// demoWant is what a demo example prints when it works; the demo's test
// runs every example and checks it.
type demoWant int

const (
	wantBundle     demoWant = iota // a searchset Bundle with at least one entry
	wantResource                   // one FHIR resource
	wantStatus                     // the site's status object
	wantRows                       // a passthrough query object with rows
	wantNDJSON                     // rows or resources, one JSON object a line
	wantRefused                    // the passthrough error shape
	wantExport                     // a completed export's manifest, then lines of its first file
	wantRegistered                 // a registered query's latest result
	wantMetrics                    // the server's Prometheus metrics, fhirlink's own
	wantPairings                   // the admin API's list of a site's pairings
	wantBooked                     // a booked Appointment
)

// demoExample is one example request the demo prints: a title and shell
// commands that work when pasted as printed.
type demoExample struct {
	section string // printed as a heading before the example, when set
	title   string
	cmd     string // lines of sh
	want    demoWant
}

// demoValues are the parts of the examples that depend on the practice's
// data and the day it was started.
type demoValues struct {
	surname, patient string
	apptDay          time.Time
	apptToday        bool      // apptDay is today (else the next day the practice is open)
	week             time.Time // next Monday
	schedule         string    // a Schedule with free slots in week
	slot             demoEntry // its first free slot in week
	tokenScript      string
	metricsURL       string // the metrics listener's /metrics; empty: none
	// adminBase and adminToken are the demo's admin API and its
	// operator's token.
	adminBase, adminToken string
}

// exampleValues picks values the examples find data with: a surname
// patients have, a live patient, a day with appointments (today unless the
// practice is closed today) and a schedule with free slots next week. The
// last two are asked of the demo's own API, so they hold for either PMS.
func (p *demoPractice) exampleValues(ctx context.Context, practiceDB, base string, today time.Time) (*demoValues, error) {
	v := &demoValues{week: nextMonday(today)}
	var err error
	if v.patient, err = queryPractice(ctx, practiceDB, p.livePatientSQL, func(string) bool { return true }); err != nil {
		return nil, err
	}
	// a name of letters only: one with an apostrophe or a space would need
	// quoting in the shell and escaping in the URL
	letters := func(s string) bool {
		return len(s) >= 3 && strings.IndexFunc(s, func(r rune) bool { return (r < 'A' || r > 'Z') && (r < 'a' || r > 'z') }) < 0
	}
	if v.surname, err = queryPractice(ctx, practiceDB, p.surnameSQL, letters); err != nil {
		return nil, err
	}
	fhirBase := base + "/integrator/sites/" + p.siteID + "/fhir/R4/"
	for i := range 7 {
		day := today.AddDate(0, 0, i)
		found, err := demoSearch(ctx, fhirBase+"Appointment?_count=1&date="+day.Format(time.DateOnly))
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			v.apptDay, v.apptToday = day, i == 0
			break
		}
	}
	schedules, err := demoSearch(ctx, fhirBase+"Schedule?active=true&_count=100")
	if err != nil {
		return nil, err
	}
	for _, s := range schedules {
		free, err := demoSearch(ctx, fhirBase+"Slot?_count=1&status=free&"+slotRange(s.ID, v.week))
		if err != nil {
			return nil, err
		}
		if len(free) > 0 {
			v.schedule, v.slot = s.ID, free[0]
			break
		}
	}
	if v.apptDay.IsZero() || v.schedule == "" {
		return nil, fmt.Errorf("the synthetic practice has no appointments in the coming week or no free slots next week (a book made for another --today in a reused --dir?)")
	}
	return v, nil
}

// nextMonday is the Monday after day.
func nextMonday(day time.Time) time.Time {
	return day.AddDate(0, 0, (int(time.Monday)-int(day.Weekday())+6)%7+1)
}

// slotRange is the query of a schedule's slots in the week from monday.
func slotRange(schedule string, monday time.Time) string {
	return "schedule=" + url.QueryEscape(schedule) + "&start=ge" + monday.Format(time.DateOnly) +
		"&start=lt" + monday.AddDate(0, 0, 7).Format(time.DateOnly)
}

// demoEntry is what the examples take of a resource found: its id and, for
// a Slot, its start and end.
type demoEntry struct{ ID, Start, End string }

// demoSearch runs a FHIR search with the demo's key and returns the
// resources found.
func demoSearch(ctx context.Context, u string) ([]demoEntry, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Ocp-Apim-Subscription-Key", demoKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("%s: %s: %s", u, resp.Status, b)
	}
	var b struct {
		Entry []struct {
			Resource demoEntry `json:"resource"`
		} `json:"entry"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: %w", u, err)
	}
	found := make([]demoEntry, len(b.Entry))
	for i, e := range b.Entry {
		found[i] = e.Resource
	}
	return found, nil
}

// demoExamples are the examples the demo prints, in order.
func demoExamples(base string, p *demoPractice, v *demoValues) []demoExample {
	site := base + "/integrator/sites/" + p.siteID
	key := "-H 'Ocp-Apim-Subscription-Key: " + demoKey + "'"
	ctype := "-H 'Content-Type: application/json'"
	fb := site + "/fhir/R4"
	prefix := strings.ToLower(v.surname[:min(3, len(v.surname))])
	like := strings.ToUpper(prefix[:1]) + prefix[1:] + "%"
	patientsBody := fmt.Sprintf(`{"command":{"text":"%s","parameters":[{"name":"@s","type":"VarChar","value":"%s"}]}}`, p.patientsSQL, like)
	apptTitle := "Today's appointments (" + v.apptDay.Format(time.DateOnly) + "), with their patients"
	if !v.apptToday {
		apptTitle = fmt.Sprintf("Appointments on %s, the next day the practice is open, with their patients", v.apptDay.Format("Monday 2006-01-02"))
	}
	registerBody := fmt.Sprintf(`{"name":"patient count","registeredQueryType":"query","frequency":60,"duration":3600,"registerCommand":{"command":{"text":"%s"}}}`, p.countSQL)
	examples := []demoExample{
		{section: "FHIR R4 (AU Core), base " + fb,
			title: fmt.Sprintf("Patients whose family name starts with %q, 5 per page (follow link[next] for more)", prefix),
			cmd:   fmt.Sprintf("curl -s '%s/Patient?family=%s&_count=5' %s", fb, prefix, key), want: wantBundle},
		{title: "One patient", cmd: fmt.Sprintf("curl -s %s/Patient/%s %s", fb, v.patient, key), want: wantResource},
		{title: apptTitle, cmd: fmt.Sprintf("curl -s '%s/Appointment?date=%s&_include=Appointment:patient&_count=10' %s",
			fb, v.apptDay.Format(time.DateOnly), key), want: wantBundle},
		{title: fmt.Sprintf("Free slots next week (from Monday %s) of Schedule/%s", v.week.Format(time.DateOnly), v.schedule),
			cmd: fmt.Sprintf("curl -s '%s/Slot?%s&status=free&_count=10' %s", fb, slotRange(v.schedule, v.week), key), want: wantBundle},
		{title: "Practitioner roles with their practitioners",
			cmd: fmt.Sprintf("curl -s '%s/PractitionerRole?_include=PractitionerRole:practitioner' %s", fb, key), want: wantBundle},
		{title: "What the server supports (CapabilityStatement)", cmd: fmt.Sprintf("curl -s %s/metadata %s", fb, key), want: wantResource},

		{section: "SMART Backend Services. The demo made a key pair and registered a client with its public key;\n" +
			"this script signs a JWT assertion with the private key (openssl) and gets an access token",
			title: "A search with an access token",
			cmd:   fmt.Sprintf("TOKEN=$(sh %s)\ncurl -s '%s/Patient?family=%s&_count=2' -H \"Authorization: Bearer $TOKEN\"", v.tokenScript, fb, prefix),
			want:  wantBundle},

		{section: "Bulk Data export",
			title: "Kick-off, poll every 5 s while it answers 202, the manifest, then the first lines of its first file",
			cmd: fmt.Sprintf(`status=$(curl -s -o /dev/null -D - '%s/$export?_type=Patient,AllergyIntolerance' %s -H 'Prefer: respond-async' | tr -d '\r' | sed -n 's/^Content-Location: //p')
while [ "$(curl -s -o /dev/null -w '%%{http_code}' "$status" %s)" = 202 ]; do sleep 5; done
manifest=$(curl -s "$status" %s); echo "$manifest"
curl -s "$(echo "$manifest" | grep -o '"url":"[^"]*"' | head -n 1 | cut -d '"' -f 4)" %s | head -n 3`, fb, key, key, key, key),
			want: wantExport},

		{section: "SQL passthrough", title: "Site status", cmd: fmt.Sprintf("curl -s %s %s", site, key), want: wantStatus},
		{title: fmt.Sprintf("Patients named %s, as the passthrough query object (rows base64-encoded in result.data)", like),
			cmd:  fmt.Sprintf("curl -s -X POST %s/queries/immediate %s %s \\\n  -d '%s'", site, key, ctype, patientsBody),
			want: wantRows},
		{title: "The same rows as NDJSON, streamed one JSON object per line",
			cmd:  fmt.Sprintf("curl -s -X POST %s/queries/immediate %s %s -H 'Accept: application/x-ndjson' \\\n  -d '%s'", site, key, ctype, patientsBody),
			want: wantNDJSON},
		{title: "A scalar", cmd: fmt.Sprintf(`curl -s -X POST %s/queries/immediate %s %s \
  -d '{"command":{"text":"%s","executionMode":"scalar"}}'`, site, key, ctype, p.countSQL), want: wantRows},
		{title: "A write, refused because the access token's scopes only read (system/*.rs system/passthrough.read)",
			cmd: fmt.Sprintf(`TOKEN=$(sh %s)
curl -s -X POST %s/queries/immediate -H "Authorization: Bearer $TOKEN" %s \
  -d '{"command":{"text":"%s","executionMode":"nonQuery"}}'`, v.tokenScript, site, ctype, p.deleteSQL), want: wantRefused},
		{title: "An async query: create it, poll its status while it runs, then stream its first page as NDJSON",
			cmd: fmt.Sprintf(`q=$(curl -s -X POST %s/queries/async %s %s \
  -d '%s' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
while curl -s %s/queries/$q %s | grep -Eq '"status":"(queued|initialising|executing|uploading)"'; do sleep 1; done
curl -s %s/queries/$q %s; echo
curl -s %s/queries/$q/results/1/stream %s -H 'Accept: application/x-ndjson'`,
				site, key, ctype, patientsBody, site, key, site, key, site, key),
			want: wantNDJSON},
		{title: "A registered query, run every 60 s for an hour: register it, then its latest result once it has one",
			cmd: fmt.Sprintf(`r=$(curl -s -X POST %s/queries/registered %s %s \
  -d '%s' | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
until curl -sf %s/queries/registered/$r/results %s; do sleep 1; done`, site, key, ctype, registerBody, site, key),
			want: wantRegistered},

		{section: "Admin API (for operators), on its own loopback listener; 'fhirlink admin COMMAND --server " + v.adminBase + "'\n" +
			"with FHIRLINK_ADMIN_TOKEN set runs any admin command through it",
			title: "The integrators paired with the site",
			cmd: fmt.Sprintf(`curl -s -X POST %s/admin/v1/pairings -H 'Authorization: Bearer %s' %s \
  -d '{"siteId":"%s"}'`, v.adminBase, v.adminToken, ctype, p.siteID),
			want: wantPairings},
	}
	if p.allowsWrites() {
		examples = append(examples, demoExample{
			section: "FHIR writes (the demo practice allows them)",
			title: fmt.Sprintf("Book the first free slot of next week, Slot/%s, for Patient/%s (run again, it answers 409: the slot is taken)",
				v.slot.ID, v.patient),
			cmd: fmt.Sprintf(`curl -s -X POST %s/Appointment %s -H 'Content-Type: application/fhir+json' \
  -d '%s'`, fb, key, bookingBody(v)),
			want: wantBooked})
	}
	if v.metricsURL != "" {
		examples = append(examples, demoExample{section: "Operators",
			title: "The server's Prometheus metrics (requests by route and status, latency, agents, quotas, jobs), on their own listener",
			cmd:   fmt.Sprintf("curl -s %s | grep '^fhirlink_'", v.metricsURL), want: wantMetrics})
	}
	return examples
}

// bookingBody is the Appointment of the booking example: v's patient in
// v's slot, with the practitioner and location of its schedule.
func bookingBody(v *demoValues) string {
	prac, loc, _ := strings.Cut(v.schedule, "-")
	return `{"resourceType":"Appointment","status":"booked","start":"` + v.slot.Start + `","end":"` + v.slot.End + `",` +
		`"description":"Booked online","participant":[` +
		`{"actor":{"reference":"Practitioner/` + prac + `"},"status":"accepted"},` +
		`{"actor":{"reference":"Location/` + loc + `"},"status":"accepted"},` +
		`{"actor":{"reference":"Patient/` + v.patient + `"},"status":"accepted"}]}`
}

// demoNewLink starts the printed line with the command making another
// sign-in link.
const demoNewLink = "Another link: "

// printExamples prints the demo's banner and its examples, each command
// indented by two spaces.
func printExamples(w io.Writer, d *demoRun) {
	fmt.Fprintf(w, "fhirlink demo is running: server %s, agent connected, synthetic %s practice, every feature on.\n", d.base, d.practice.pmsType)
	for _, e := range d.examples {
		if e.section != "" {
			fmt.Fprintf(w, "\n%s\n", e.section)
		}
		fmt.Fprintf(w, "\n%s:\n  %s\n", e.title, strings.ReplaceAll(e.cmd, "\n", "\n  "))
	}
	fmt.Fprintf(w, "\nWeb console, for people: %s/console/\n", d.base)
	fmt.Fprintf(w, "A practice signs in with its site credential (here site id %s, agent secret %s),\n", d.practice.siteID, demoSiteSecret)
	fmt.Fprintf(w, "an integrator with an API key (%s), or either with a one-time link. This one signs in\n", demoKey)
	fmt.Fprintf(w, "the demo practice, once, within an hour (opening it shows a button; only the button uses it):\n%s\n", d.consoleLink)
	fmt.Fprintf(w, "%sfhirlink admin console-link --database %s --site %s --base-url %s\n", demoNewLink, d.stateDB, d.practice.siteID, d.base)
	fmt.Fprintf(w, "\nPress Ctrl-C to stop.\n")
}
