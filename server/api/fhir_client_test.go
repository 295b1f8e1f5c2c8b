package api_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"context"
)

// TestFHIRKitClient drives fhir-kit-client, a FHIR client integrators use
// and we did not write, through a search with paging, a read and the
// CapabilityStatement.
func TestFHIRKitClient(t *testing.T) {
	env, db := fhirEnv(t)
	_, here, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(here), "..", "..", "testdata", "fhirclient")
	want := dbIDs(t, db, `SELECT "INTERNALID"::text `+livePatients+` AND lower(rtrim("SURNAME")) LIKE 'm%' ORDER BY "INTERNALID"`)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", filepath.Join(dir, "client.mjs"), env.SiteURL()+"/fhir/R4", env.Key, "family=m&_count=4", want[0]).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("fhir-kit-client: %v\n%s (run: npm ci --prefix testdata/fhirclient)", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var got struct {
		Pages       int
		IDs         []string
		Read        struct{ ResourceType, ID string }
		FHIRVersion string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if !sameSet(got.IDs, want) || got.Pages != (len(want)+3)/4 {
		t.Fatalf("client walked %d pages, ids %v; want %d pages, ids %v", got.Pages, got.IDs, (len(want)+3)/4, want)
	}
	if got.Read.ResourceType != "Patient" || got.Read.ID != want[0] || got.FHIRVersion != "4.0.1" {
		t.Fatalf("read %+v, capability fhirVersion %q", got.Read, got.FHIRVersion)
	}
}
