package zedmed

import (
	"testing"

	"fhirlink/mappings/zedmed/zedsynth"
)

// TestCodesMatchSynth checks that the mapping's code values are the synthetic database's.
func TestCodesMatchSynth(t *testing.T) {
	for _, c := range []struct {
		name           string
		mapping, synth int
	}{
		{"patient active", patientActive, zedsynth.PatientActive},
		{"patient deceased", patientDeceased, zedsynth.PatientDeceased},
		{"GP", doctorGP, zedsynth.DoctorGP},
		{"registrar", doctorRegistrar, zedsynth.DoctorRegistrar},
		{"nurse", doctorNurse, zedsynth.DoctorNurse},
		{"allied", doctorAllied, zedsynth.DoctorAllied},
		{"booked", apptBooked, zedsynth.ApptBooked},
		{"arrived", apptArrived, zedsynth.ApptArrived},
		{"in consultation", apptInConsult, zedsynth.ApptInConsult},
		{"completed", apptCompleted, zedsynth.ApptCompleted},
		{"did not attend", apptDNA, zedsynth.ApptDNA},
		{"cancelled", apptCancelled, zedsynth.ApptCancelled},
		{"blocked", apptBlocked, zedsynth.ApptBlocked},
		{"consult at the surgery", consultSurgery, zedsynth.ConsultSurgery},
		{"video consult", consultVideo, zedsynth.ConsultVideo},
		{"telephone consult", consultPhone, zedsynth.ConsultPhone},
		{"home visit", consultHome, zedsynth.ConsultHome},
		{"aged-care visit", consultAgedCare, zedsynth.ConsultAgedCare},
		{"script active", scriptActive, zedsynth.ScriptActive},
		{"script completed", scriptCompleted, zedsynth.ScriptCompleted},
		{"script ceased", scriptCeased, zedsynth.ScriptCeased},
		{"script cancelled", scriptCancelled, zedsynth.ScriptCancelled},
	} {
		if c.mapping != c.synth {
			t.Errorf("%s: mapping %d, zedsynth %d", c.name, c.mapping, c.synth)
		}
	}
	for typ := range vitalSigns {
		found := false
		for _, s := range []string{zedsynth.MeasBP, zedsynth.MeasPulse, zedsynth.MeasWeight, zedsynth.MeasHeight, zedsynth.MeasBMI, zedsynth.MeasTemp,
			zedsynth.MeasResp, zedsynth.MeasSpO2} {
			found = found || s == typ
		}
		if !found {
			t.Errorf("vital sign %s is not a zedsynth MEAS_TYPE", typ)
		}
	}
}
