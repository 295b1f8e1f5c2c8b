package zedsynth

import (
	"strings"

	"fhirlink/mappings/bppremier/bpsynth"
)

// Australian identifiers. The check-digit rules are bpsynth's (its exported validators): a
// generator here draws the payload and tries each possible check character until bpsynth
// accepts one, so the two packages cannot disagree.

type idset map[string]bool

func (s idset) claim(v string) bool {
	if s[v] {
		return false
	}
	s[v] = true
	return true
}

// healthID is a unique 16-digit IHI, HPI-I or HPI-O (prefix bpsynth.PrefixIHI, ...).
func (r *rng) healthID(prefix string, used idset) string {
	valid := map[string]func(string) bool{bpsynth.PrefixIHI: bpsynth.ValidIHI, bpsynth.PrefixHPII: bpsynth.ValidHPII,
		bpsynth.PrefixHPIO: bpsynth.ValidHPIO}[prefix]
	for {
		payload := prefix + r.digits(15-len(prefix))
		for d := byte('0'); d <= '9'; d++ {
			if v := payload + string(d); valid(v) && used.claim(v) {
				return v
			}
		}
	}
}

// medicare is a unique 10-digit Medicare card number (check digit and issue number included).
func (r *rng) medicare(used idset) string {
	for {
		first8 := string(byte('2'+r.IntN(5))) + r.digits(7)
		issue := string(byte('1' + r.IntN(3)))
		for d := byte('0'); d <= '9'; d++ {
			if v := first8 + string(d) + issue; bpsynth.ValidMedicare(v) && used.claim(v) {
				return v
			}
		}
	}
}

// abn is a valid ABN, formatted "NN NNN NNN NNN".
func (r *rng) abn() string {
	for {
		body := r.digits(9)
		for lead := 10; lead <= 99; lead++ {
			v := string(rune('0'+lead/10)) + string(rune('0'+lead%10)) + body
			if bpsynth.ValidABN(v) {
				return bpsynth.FormatABN(v)
			}
		}
	}
}

// providerNumber is a Medicare provider number for a stem and a location character.
func providerNumber(stem string, loc byte) string {
	for _, c := range "ABFHJKLTWXY" {
		if v := stem + string(loc) + string(c); bpsynth.ValidProviderNumber(v) {
			return v
		}
	}
	panic("zedsynth: no provider check character for " + stem)
}

// dva is a DVA file number such as "NX123456" (state letter, war code, six digits).
func (r *rng) dva(state string) string {
	letter := map[string]string{"VIC": "V", "QLD": "Q", "SA": "S", "WA": "W", "TAS": "T", "NT": "S"}[state]
	if letter == "" {
		letter = "N"
	}
	return letter + "X" + r.digits(6)
}

// ahpra is an Ahpra registration number: profession letters and 10 digits.
func (r *rng) ahpra(profession string) string {
	return strings.ToUpper(profession) + r.digits(10)
}
