package bpsynth

import (
	"math/rand/v2"
	"testing"
)

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{"79927398713": true, "79927398710": false, "4548" + "4": true, "20933": true, "": false, "7a": false} {
		if got := LuhnValid(s); got != want {
			t.Errorf("LuhnValid(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMedicare(t *testing.T) {
	// 2,1,2,3,4,5,6,7 weighted 1,3,7,9,1,3,7,9 sum to 170: check digit 0
	for s, want := range map[string]bool{"2123456701": true, "21234567011": true, "2123 45670 1": true,
		"2123456711": false, "1123456701": false, "7123456701": false, "2123456700": false, "21234567010": false, "212345670": false} {
		if got := ValidMedicare(s); got != want {
			t.Errorf("ValidMedicare(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestABN(t *testing.T) {
	for s, want := range map[string]bool{"51824753556": true, "51 824 753 556": true, "51824753557": false, "5182475355": false} {
		if got := ValidABN(s); got != want {
			t.Errorf("ValidABN(%q) = %v, want %v", s, got, want)
		}
	}
	if FormatABN("51824753556") != "51 824 753 556" {
		t.Error(FormatABN("51824753556"))
	}
}

func TestGeneratorsProduceValidIdentifiers(t *testing.T) {
	r := &rng{rand.New(rand.NewPCG(1, 2))}
	used := idset{}
	for range 2000 {
		if v := newHI(r, PrefixIHI, used); !ValidIHI(v) || ValidHPII(v) {
			t.Fatalf("IHI %s", v)
		}
		if v := newHI(r, PrefixHPII, used); !ValidHPII(v) {
			t.Fatalf("HPI-I %s", v)
		}
		if v := newHI(r, PrefixHPIO, used); !ValidHPIO(v) {
			t.Fatalf("HPI-O %s", v)
		}
		if v := newMedicare(r, used); !ValidMedicare(v) {
			t.Fatalf("Medicare %s", v)
		}
		if v := newABN(r); !ValidABN(v) {
			t.Fatalf("ABN %s", v)
		}
		stem := newProviderStem(r, used)
		for i := range len(providerLocationChars) {
			v := providerNumber(stem, providerLocationChars[i])
			if !ValidProviderNumber(v) {
				t.Fatalf("provider number %s", v)
			}
			bad := v[:7] + string(providerCheckChars[(indexOf(providerCheckChars, v[7])+1)%len(providerCheckChars)])
			if ValidProviderNumber(bad) {
				t.Fatalf("wrong check character accepted: %s", bad)
			}
		}
	}
	// a single changed digit is always caught by the Luhn and Medicare checks
	ihi := newHI(r, PrefixIHI, used)
	for i := 6; i < 16; i++ {
		b := []byte(ihi)
		b[i] = '0' + (b[i]-'0'+1)%10
		if ValidIHI(string(b)) {
			t.Errorf("IHI with digit %d changed still valid: %s", i, b)
		}
	}
	if !ValidAHPRA("MED0001234567") || ValidAHPRA("MED001234567") || ValidAHPRA("med0001234567") {
		t.Error("AHPRA format check")
	}
}

func indexOf(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func TestStateOfPostcode(t *testing.T) {
	for pc, want := range map[string]string{"2000": "NSW", "2600": "ACT", "2618": "ACT", "2619": "NSW", "2900": "ACT",
		"2920": "ACT", "2921": "NSW", "3000": "VIC", "4000": "QLD", "5799": "SA", "5800": "", "6797": "WA", "6800": "",
		"7000": "TAS", "0800": "NT", "0900": "", "1000": "", "abcd": "", "200": ""} {
		if got := StateOfPostcode(pc); got != want {
			t.Errorf("StateOfPostcode(%q) = %q, want %q", pc, got, want)
		}
	}
}
