package fhir

import (
	"encoding/json"
	"testing"
)

func TestCapabilityBulkExport(t *testing.T) {
	type op struct{ Name, Definition string }
	var cs struct {
		Instantiates []string
		Rest         []struct {
			Operation []op
			Resource  []struct {
				Type      string
				Operation []op
			}
		}
	}
	decode := func(b []byte) {
		t.Helper()
		cs.Instantiates, cs.Rest = nil, nil
		if err := json.Unmarshal(b, &cs); err != nil {
			t.Fatal(err)
		}
	}
	decls := []*ResourceDecl{patientDecl}
	decode(Capability(CapabilityOptions{}, decls))
	if len(cs.Instantiates) != 0 || len(cs.Rest[0].Operation) != 0 || len(cs.Rest[0].Resource[0].Operation) != 0 {
		t.Fatalf("export advertised without BulkExport: %+v", cs)
	}
	decode(Capability(CapabilityOptions{BulkExport: true}, decls))
	if len(cs.Instantiates) != 1 || cs.Instantiates[0] != BulkDataCapability {
		t.Errorf("instantiates %v", cs.Instantiates)
	}
	if ops := cs.Rest[0].Operation; len(ops) != 1 || ops[0] != (op{"export", BulkDataExport}) {
		t.Errorf("rest.operation %+v", ops)
	}
	if ops := cs.Rest[0].Resource[0].Operation; cs.Rest[0].Resource[0].Type != "Patient" || len(ops) != 1 || ops[0] != (op{"export", BulkDataPatientExport}) {
		t.Errorf("Patient operation %+v", ops)
	}
}
