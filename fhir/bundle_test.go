package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

const base = "https://fhir.example.test/integrator/sites/s1/fhir/R4"

func TestSelfLink(t *testing.T) {
	s := pageOne(t, "family:exact=O'Brien,a%5C,b&identifier=http://x|1&_sort=-birthdate&famly=x&_count=5")
	self := SelfLink(base+"/", "Patient", s.Applied)
	want := base + "/Patient?_count=5&_sort=-birthdate&family:exact=O%27Brien,a%5C,b&identifier=http://x%7C1"
	if self != want {
		t.Errorf("self\n got %s\nwant %s", self, want)
	}
	// A client following self gets the same search, ignored parameters gone.
	u, err := url.Parse(self)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseSearch(patientDecl, u.Query(), strictOpts())
	if err != nil {
		t.Fatal(err)
	}
	s.Ignored = nil
	if !reflect.DeepEqual(again, s) {
		t.Errorf("self parses to\n %+v\nwant %+v", again, s)
	}
	if got := SelfLink(base, "Patient", nil); got != base+"/Patient" {
		t.Errorf("self without parameters = %s", got)
	}
	// A literal %2C in a value is not turned into a comma.
	if got := SelfLink(base, "Patient", url.Values{"family": {"%2C"}}); got != base+"/Patient?family=%252C" {
		t.Errorf("self = %s", got)
	}
}

func TestNextLink(t *testing.T) {
	s := pageOne(t, "family=smi")
	tok := s.Token(pagingKey, fixedNow.Add(1e12))
	next := NextLink(base, "Patient", tok)
	if next != base+"/Patient?_page_token="+tok {
		t.Errorf("next = %s", next)
	}
	u, _ := url.Parse(next)
	if u.Query().Get("_page_token") != tok {
		t.Error("token does not survive the URL")
	}
}

// bundleOf decodes a Bundle twice: generically, to check the exact shape,
// and into the generated R4 models, whose enum types refuse unknown codes.
func bundleOf(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	if _, err := models.UnmarshalBundle(b); err != nil {
		t.Fatalf("not an R4 Bundle: %v\n%s", err, b)
	}
	if bytes.Contains(b, []byte("null")) {
		t.Errorf("bundle contains null: %s", b)
	}
	return m
}

func TestBundleWriter(t *testing.T) {
	total := 42
	patient := json.RawMessage(`{"resourceType":"Patient","id":"1","name":[{"family":"Smith"}]}`)
	doctor := json.RawMessage(`{"resourceType":"Practitioner","id":"7"}`)
	self, next := base+"/Patient?_count=1", base+"/Patient?_page_token=abc"
	var buf bytes.Buffer
	bw := NewBundleWriter(&buf, &total, []string{"famly", "foo:exact"})
	entries := []Entry{
		{FullURL: base + "/Patient/1", Resource: patient, Mode: ModeMatch},
		{FullURL: base + "/Patient/2", Resource: json.RawMessage(`{"resourceType":"Patient","id":"2"}`)}, // mode match
		{FullURL: base + "/Practitioner/7", Resource: doctor, Mode: ModeInclude},
		{FullURL: base + "/Practitioner/7", Resource: doctor, Mode: ModeInclude}, // included twice: once
		{FullURL: base + "/Patient/1", Resource: patient, Mode: ModeInclude},     // included and a match: once
	}
	for i, e := range entries {
		if err := bw.Entry(e); err != nil {
			t.Fatal(err)
		}
		// Each entry is written when it is given, the head with the first.
		if !bw.Started() || !bytes.HasPrefix(buf.Bytes(), []byte(`{"resourceType":"Bundle","type":"searchset","total":42,"entry":[`)) {
			t.Fatalf("after entry %d: %s", i, buf.Bytes())
		}
		if i == 0 && !bytes.HasSuffix(buf.Bytes(), []byte(`"search":{"mode":"match"}}`)) {
			t.Fatalf("first entry not written: %s", buf.Bytes())
		}
	}
	if bw.Resources() != 3 {
		t.Errorf("Resources = %d", bw.Resources())
	}
	if err := bw.Close(self, next); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	m := bundleOf(t, b)
	if m["resourceType"] != "Bundle" || m["type"] != "searchset" || m["total"] != 42.0 {
		t.Errorf("bundle head: %s", b)
	}
	links := m["link"].([]any)
	if len(links) != 2 || links[0].(map[string]any)["relation"] != "self" || links[0].(map[string]any)["url"] != self ||
		links[1].(map[string]any)["relation"] != "next" || links[1].(map[string]any)["url"] != next {
		t.Errorf("links = %v", links)
	}
	type row struct{ fullURL, mode, typ, id string }
	var got []row
	for _, e := range m["entry"].([]any) {
		e := e.(map[string]any)
		r := e["resource"].(map[string]any)
		fu, _ := e["fullUrl"].(string)
		id, _ := r["id"].(string)
		got = append(got, row{fu, e["search"].(map[string]any)["mode"].(string), r["resourceType"].(string), id})
	}
	want := []row{
		{"", "outcome", "OperationOutcome", ""},
		{base + "/Patient/1", "match", "Patient", "1"},
		{base + "/Patient/2", "match", "Patient", "2"},
		{base + "/Practitioner/7", "include", "Practitioner", "7"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entries\n got %v\nwant %v", got, want)
	}
	oo := m["entry"].([]any)[0].(map[string]any)["resource"].(map[string]any)["issue"].([]any)[0].(map[string]any)
	if oo["severity"] != "warning" || oo["code"] != "not-supported" || !strings.Contains(oo["diagnostics"].(string), "famly, foo:exact") {
		t.Errorf("outcome issue = %v", oo)
	}
	// Resources are written byte for byte.
	if !bytes.Contains(b, patient) {
		t.Error("resource altered")
	}
	// Nothing is written after the end.
	if err := bw.Entry(entries[0]); err == nil {
		t.Error("an entry after Close was accepted")
	}
}

func TestBundleWriterMinimal(t *testing.T) {
	for name, c := range map[string]struct {
		self    string
		total   *int
		ignored []string
		want    string
	}{
		"empty":             {want: `{"resourceType":"Bundle","type":"searchset"}`},
		"self only":         {self: "s", want: `{"resourceType":"Bundle","type":"searchset","link":[{"relation":"self","url":"s"}]}`},
		"count, no entries": {self: "s", total: new(int), want: `{"resourceType":"Bundle","type":"searchset","total":0,"link":[{"relation":"self","url":"s"}]}`},
		"the warning alone": {self: "s", ignored: []string{"x"}},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			bw := NewBundleWriter(&buf, c.total, c.ignored)
			if bw.Started() || buf.Len() != 0 {
				t.Fatal("written before the first entry")
			}
			if err := bw.Close(c.self, ""); err != nil {
				t.Fatal(err)
			}
			b := buf.Bytes()
			m := bundleOf(t, b)
			if c.want != "" && string(b) != c.want {
				t.Errorf("bundle\n got %s\nwant %s", b, c.want)
			}
			if entries, _ := m["entry"].([]any); len(entries) != len(c.ignored) {
				t.Errorf("entries: %s", b)
			}
		})
	}
}

func TestBundleWriterBadEntries(t *testing.T) {
	for name, e := range map[string]Entry{
		"not an object":   {FullURL: "u", Resource: json.RawMessage(`[1]`)},
		"null":            {FullURL: "u", Resource: nil},
		"no resourceType": {FullURL: "u", Resource: json.RawMessage(`{"id":"1"}`)},
		"no fullUrl":      {Resource: json.RawMessage(`{"resourceType":"Patient","id":"1"}`)},
		"unknown mode":    {FullURL: "u", Resource: json.RawMessage(`{"resourceType":"Patient"}`), Mode: "matched"},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			bw := NewBundleWriter(&buf, nil, []string{"x"})
			wantError(t, bw.Entry(e), 500, IssueException)
			if buf.Len() != 0 || bw.Started() {
				t.Errorf("wrote %q before failing", buf.String())
			}
		})
	}
	neg := -1
	var buf bytes.Buffer
	wantError(t, NewBundleWriter(&buf, &neg, nil).Close("s", ""), 500, IssueException)
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

type failingWriter struct{ after int }

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.after <= 0 {
		return 0, errors.New("broken pipe")
	}
	w.after--
	return len(b), nil
}

func TestBundleWriterWriteError(t *testing.T) {
	bw := NewBundleWriter(&failingWriter{after: 1}, nil, nil)
	e := Entry{FullURL: "u", Resource: json.RawMessage(`{"resourceType":"Patient","id":"1"}`)}
	if err := bw.Entry(e); err != nil {
		t.Fatal(err)
	}
	if err := bw.Entry(e); err == nil || err.Error() != "broken pipe" {
		t.Errorf("err = %v", err)
	}
	if err := bw.Close("s", ""); err == nil {
		t.Error("Close after a failed write succeeded")
	}
}
