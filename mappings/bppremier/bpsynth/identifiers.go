package bpsynth

// Australian healthcare identifiers: check-digit rules, validators and generators.
//
// Facts used (public rules, not Bp Premier specifics):
//   - IHI, HPI-I and HPI-O: 16 digits, prefixes 800360, 800361 and 800362, last digit a Luhn
//     check digit over the first 15.
//   - Medicare card number: 10 digits; the first is 2-6, the 9th is a check digit (weights
//     1,3,7,9,1,3,7,9 over the first 8, mod 10), the 10th the card issue number. The
//     individual reference number (IRN, 1-9) is a separate digit (Bp: MEDICARELINENO).
//   - ABN: 11 digits; subtract 1 from the first digit, weight the digits 10,1,3,5,7,9,11,13,
//     15,17,19, and the sum is divisible by 89.
//   - Medicare provider number: 6-digit stem, practice location character from
//     "0123456789ABCDEFGHJKLMNPQRTUVWXY", check character "YXWTLKJHFBA"[(stem digits weighted
//     3,5,8,4,2,1 + 6 x location value) mod 11].
//   - AHPRA registration number: three letters (profession, e.g. MED, NMW) and 10 digits.

import (
	"regexp"
	"strings"
)

// LuhnValid reports whether s is all digits and its last digit is the Luhn check digit of the
// rest.
func LuhnValid(s string) bool {
	if len(s) < 2 || !allDigits(s) {
		return false
	}
	return luhnDigit(s[:len(s)-1]) == s[len(s)-1]
}

// luhnDigit returns the Luhn check digit for payload (digits only).
func luhnDigit(payload string) byte {
	sum := 0
	double := true // the digit next to the check digit is doubled
	for i := len(payload) - 1; i >= 0; i-- {
		d := int(payload[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Healthcare identifier prefixes.
const (
	PrefixIHI  = "800360"
	PrefixHPII = "800361"
	PrefixHPIO = "800362"
)

func validHI(s, prefix string) bool {
	s = strings.TrimSpace(s)
	return len(s) == 16 && strings.HasPrefix(s, prefix) && LuhnValid(s)
}

// ValidIHI reports whether s (surrounding spaces ignored) is a well-formed Individual
// Healthcare Identifier.
func ValidIHI(s string) bool { return validHI(s, PrefixIHI) }

// ValidHPII reports whether s is a well-formed HPI-I (practitioner identifier).
func ValidHPII(s string) bool { return validHI(s, PrefixHPII) }

// ValidHPIO reports whether s is a well-formed HPI-O (organisation identifier).
func ValidHPIO(s string) bool { return validHI(s, PrefixHPIO) }

var medicareWeights = [8]int{1, 3, 7, 9, 1, 3, 7, 9}

func medicareCheck(first8 string) byte {
	sum := 0
	for i := 0; i < 8; i++ {
		sum += int(first8[i]-'0') * medicareWeights[i]
	}
	return byte('0' + sum%10)
}

// ValidMedicare reports whether s is a valid Medicare card number: 10 digits (or 11 with the
// IRN appended), first digit 2-6, correct check digit, issue number and IRN not 0. Spaces are
// ignored.
func ValidMedicare(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if (len(s) != 10 && len(s) != 11) || !allDigits(s) {
		return false
	}
	if s[0] < '2' || s[0] > '6' || s[9] == '0' || (len(s) == 11 && s[10] == '0') {
		return false
	}
	return medicareCheck(s[:8]) == s[8]
}

var abnWeights = [11]int{10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19}

// ValidABN reports whether s is a valid Australian Business Number (spaces ignored).
func ValidABN(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) != 11 || !allDigits(s) || s[0] == '0' {
		return false
	}
	return abnSum(s)%89 == 0
}

func abnSum(s string) int {
	sum := 0
	for i := 0; i < 11; i++ {
		d := int(s[i] - '0')
		if i == 0 {
			d--
		}
		sum += d * abnWeights[i]
	}
	return sum
}

// FormatABN writes an 11-digit ABN in the usual "NN NNN NNN NNN" grouping (14 characters,
// which is the width of Bp's ABN columns).
func FormatABN(abn string) string {
	if len(abn) != 11 {
		return abn
	}
	return abn[:2] + " " + abn[2:5] + " " + abn[5:8] + " " + abn[8:]
}

const (
	providerLocationChars = "0123456789ABCDEFGHJKLMNPQRTUVWXY"
	providerCheckChars    = "YXWTLKJHFBA"
)

var providerWeights = [6]int{3, 5, 8, 4, 2, 1}

func providerCheck(stem string, loc byte) (byte, bool) {
	plv := strings.IndexByte(providerLocationChars, loc)
	if plv < 0 || len(stem) != 6 || !allDigits(stem) {
		return 0, false
	}
	sum := plv * 6
	for i := 0; i < 6; i++ {
		sum += int(stem[i]-'0') * providerWeights[i]
	}
	return providerCheckChars[sum%11], true
}

// ValidProviderNumber reports whether s is a well-formed Medicare provider number (6-digit
// stem, location character, check character; a 5-digit stem with its leading zero dropped is
// accepted too).
func ValidProviderNumber(s string) bool {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 7 {
		s = "0" + s
	}
	if len(s) != 8 {
		return false
	}
	c, ok := providerCheck(s[:6], s[6])
	return ok && c == s[7]
}

var ahpraRE = regexp.MustCompile(`^[A-Z]{3}[0-9]{10}$`)

// ValidAHPRA reports whether s has the AHPRA registration number format.
func ValidAHPRA(s string) bool { return ahpraRE.MatchString(strings.TrimSpace(s)) }

// ---- generators (deterministic from the caller's rng; uniqueness via the ids set) ----

// idset remembers issued identifiers so that none is handed out twice.
type idset map[string]struct{}

func (s idset) claim(v string) bool {
	if _, dup := s[v]; dup {
		return false
	}
	s[v] = struct{}{}
	return true
}

// newHI makes a unique 16-digit healthcare identifier with the given prefix.
func newHI(r *rng, prefix string, used idset) string {
	for {
		payload := prefix + r.digits(15-len(prefix))
		v := payload + string(luhnDigit(payload))
		if used.claim(v) {
			return v
		}
	}
}

// newMedicare makes a unique 10-digit Medicare card number (with issue number).
func newMedicare(r *rng, used idset) string {
	for {
		first8 := string(byte('2'+r.IntN(5))) + r.digits(7)
		issue := byte('1')
		switch x := r.IntN(100); {
		case x >= 95:
			issue = '3'
		case x >= 70:
			issue = '2'
		}
		v := first8 + string(medicareCheck(first8)) + string(issue)
		if used.claim(v) {
			return v
		}
	}
}

// newABN makes a valid ABN: nine random digits, then the two leading digits that satisfy the
// checksum (10*(d1-1)+d2 takes every value 0..89, so one always does).
func newABN(r *rng) string {
	body := r.digits(9)
	for lead := 10; lead <= 99; lead++ {
		s := string(rune('0'+lead/10)) + string(rune('0'+lead%10)) + body
		if abnSum(s)%89 == 0 {
			return s
		}
	}
	panic("unreachable: no ABN prefix")
}

// newProviderStem makes a unique 6-digit provider number stem.
func newProviderStem(r *rng, used idset) string {
	for {
		v := string(byte('2'+r.IntN(3))) + r.digits(5)
		if used.claim(v) {
			return v
		}
	}
}

// providerNumber builds the 8-character provider number for a stem and location character.
func providerNumber(stem string, loc byte) string {
	c, ok := providerCheck(stem, loc)
	if !ok {
		panic("bpsynth: bad provider stem " + stem)
	}
	return stem + string(loc) + string(c)
}

// newDVA makes a DVA file number such as "NX123456": state letter (N NSW/ACT, V VIC, Q QLD,
// S SA/NT, W WA, T TAS), war code X, six digits. The exact rules of DVA numbering are not used.
func newDVA(r *rng, state string) string {
	letter := map[string]string{"NSW": "N", "ACT": "N", "VIC": "V", "QLD": "Q", "SA": "S", "NT": "S", "WA": "W", "TAS": "T"}[state]
	if letter == "" {
		letter = "N"
	}
	return letter + "X" + r.digits(6)
}
