package agent

import (
	"strings"
	"testing"
)

func TestPMSCatalogues(t *testing.T) {
	cases := []struct {
		name string
		pms  PMS
		dsns []string // per catalogue
		err  string
	}{
		{"Bp Premier defaults", PMS{Type: "BestPractice", Password: "p@ss word"},
			[]string{"sqlserver://bpsrawdata:p%40ss%20word@localhost/BPSINSTANCE?app+name=fhirlink+agent&database=BPSPatients"}, ""},
		{"Bp Premier fixed port", PMS{Type: "BestPractice", Host: "pms01", Port: 1433, User: "reader", Password: "x"},
			[]string{"sqlserver://reader:x@pms01:1433?app+name=fhirlink+agent&database=BPSPatients"}, ""},
		{"Bp Premier integrated (SSPI)", PMS{Type: "BestPractice", Integrated: true},
			[]string{"sqlserver://localhost/BPSINSTANCE?app+name=fhirlink+agent&database=BPSPatients"}, ""},
		{"Bp Premier integrated (NTLM)", PMS{Type: "BestPractice", Integrated: true, User: `CLINIC\svc-fhirlink`, Password: "x"},
			[]string{"sqlserver://CLINIC%5Csvc-fhirlink:x@localhost/BPSINSTANCE?app+name=fhirlink+agent&database=BPSPatients"}, ""},
		{"Bp Premier without password", PMS{Type: "BestPractice"}, nil, "password"},
		{"Zedmed", PMS{Type: "Zedmed", Password: "masterkey", Databases: []string{`ZEDMED=C:\Zedmed\Data\ZEDMED.FDB`, `ZEDMEDAPPT=C:\Zedmed\Data\APPT.FDB`}},
			[]string{"firebird://SYSDBA:masterkey@localhost:3050/C:/Zedmed/Data/ZEDMED.FDB", "firebird://SYSDBA:masterkey@localhost:3050/C:/Zedmed/Data/APPT.FDB"}, ""},
		{"Zedmed without databases", PMS{Type: "Zedmed", Password: "x"}, nil, "NAME=PATH"},
		{"unknown", PMS{Type: "Medtech"}, nil, "BestPractice or Zedmed"},
	}
	for _, c := range cases {
		cfg, err := c.pms.Catalogues(false)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(cfg.Catalogues) != len(c.dsns) || !cfg.Catalogues[0].IsDefault {
			t.Errorf("%s: catalogues %+v", c.name, cfg.Catalogues)
			continue
		}
		for i, want := range c.dsns {
			if got := cfg.Catalogues[i].DSN; got != want {
				t.Errorf("%s: DSN\n got %s\nwant %s", c.name, got, want)
			}
		}
	}
}
