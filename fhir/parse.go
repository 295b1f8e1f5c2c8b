package fhir

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fallbacks for a declaration that leaves DefaultCount or MaxCount unset.
const (
	fallbackDefaultCount = 20
	fallbackMaxCount     = 100
)

// elementRE is a top-level element name as _elements takes it.
var elementRE = regexp.MustCompile(`^[a-z][A-Za-z0-9]{0,63}$`)

// resultParams are the search result parameters the parser itself
// interprets. _format and _page_token belong to the HTTP layer and are
// skipped; every other name is a declared parameter or unknown.
var resultParams = []string{"_count", "_sort", "_summary", "_total", "_elements", "_include", "_revinclude"}

// httpParams are handled by the HTTP layer before the search is parsed:
// the format is negotiated, and a page token is parsed with ParseToken,
// which takes the place of ParseSearch.
var httpParams = []string{"_format", "_page_token"}

// ParseSearch parses and validates the query of a search on decl's
// resource type.
//
// Parameters are ANDed when repeated and their comma-separated values
// ORed. A bad value is a 400 in every mode, since guessing what a client
// meant by birthdate=1990-13-45 would answer a different question. An
// unknown parameter is a 400 naming it when opt.Strict (Prefer:
// handling=strict), and otherwise left out of the search, listed in
// Search.Ignored and absent from Search.Applied, so the self link shows
// what was really applied.
//
// The result parameters:
//   - _count: decl.DefaultCount when absent, 1..decl.MaxCount. A larger
//     value is refused, not clamped: a client that asked for 500 and got
//     100 without being told might believe it saw everything. _count=0
//     asks for the total only, like _summary=count.
//   - _sort: declared sort keys and _id, "-" for descending; _id ascending
//     is appended as the final key when absent, so paging is stable.
//   - _summary: count (the total, no entries), false (the default), and
//     true and data, which Summarize applies to the matches and which
//     cannot be combined with _elements; text is not supported.
//   - _total: accurate sets Search.Total. estimate is treated as none: we
//     have no cheap estimate, and counting costs a second query on the
//     practice's own server, which a client asking only for an estimate
//     has said it can do without.
//   - _elements: top-level element names, for Subset.
//   - _include: one of decl.Includes, as Source:param or
//     Source:param:Target; "*" and :iterate are not supported.
//   - _revinclude: one of decl.RevIncludes, written the same way.
//
// A reference parameter is chained (patient.identifier=..., or
// patient:Patient.identifier=...) only by the parameters it declares in
// SearchParam.Chains; the value is parsed by the chained parameter's type,
// without modifiers. Chaining an undeclared parameter is a 400 in every
// mode, since ignoring it would return everything.
//
// With _summary=count, Count is 0, Total is true, and _elements, _include
// and _revinclude, which cannot change a count, are validated but not
// applied.
func ParseSearch(decl *ResourceDecl, q url.Values, opt ParseOptions) (*Search, error) {
	// One instant anchors every ap value; a paging token carries it, so
	// later pages compute the same ranges.
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	p := &parser{decl: decl, s: &Search{Type: decl.Type, Applied: url.Values{}, now: opt.Now.Round(0).UTC()}}
	p.s.Count, p.most = countBounds(decl)
	var unknown []string
	var clauses []appliedClause
	for _, key := range slices.Sorted(maps.Keys(q)) {
		vals := q[key]
		if len(vals) == 0 {
			continue
		}
		name, mod, hasMod := strings.Cut(key, ":")
		if slices.Contains(httpParams, name) {
			// A present but empty _page_token would otherwise silently
			// restart the search at page one.
			if name == "_page_token" && strings.TrimSpace(vals[0]) == "" {
				return nil, badRequest("_page_token is empty; follow the next link as given, or run the search again")
			}
			continue
		}
		if slices.Contains(resultParams, name) {
			if hasMod {
				if (name == "_include" || name == "_revinclude") && (mod == "iterate" || mod == "recurse") {
					return nil, unsupported("%s: iterative includes are not supported; use %s without a modifier", key, name)
				}
				return nil, badRequest("%s: %s takes no modifier", key, name)
			}
			if err := p.result(name, vals); err != nil {
				return nil, err
			}
			continue
		}
		if base, chainName, chained := chainKey(name, mod); chained {
			bp, ok := decl.Param(base)
			if !ok || bp.Type != TypeReference {
				unknown = append(unknown, key)
				continue
			}
			if hasMod && mod == "" {
				return nil, badRequest("%s: empty modifier after ':'", key)
			}
			chain, err := chainParam(bp, key, name, mod, chainName)
			if err != nil {
				return nil, err
			}
			for _, raw := range vals {
				if len(clauses) == maxClauses {
					return nil, tooCostly("more than %d search parameters; narrow the search", maxClauses)
				}
				c, _, av, err := clause(chain, key, ModifierNone, raw, opt)
				if err != nil {
					return nil, err
				}
				c.Param, c.Chain = bp, &chain
				clauses = append(clauses, appliedClause{c, bp.Name + "." + chain.Name, av})
			}
			continue
		}
		sp, ok := decl.Param(name)
		if !ok {
			unknown = append(unknown, key)
			continue
		}
		if hasMod && mod == "" {
			return nil, badRequest("%s: empty modifier after ':'", key)
		}
		for _, raw := range vals {
			if len(clauses) == maxClauses {
				return nil, tooCostly("more than %d search parameters; narrow the search", maxClauses)
			}
			c, ak, av, err := clause(sp, key, mod, raw, opt)
			if err != nil {
				return nil, err
			}
			clauses = append(clauses, appliedClause{c, ak, av})
		}
	}
	if len(unknown) > 0 && opt.Strict {
		return nil, badRequest("unknown search parameter(s) for %s: %s (Prefer: handling=strict); %s supports %s",
			decl.Type, strings.Join(unknown, ", "), decl.Type, strings.Join(p.supported(), ", "))
	}
	p.s.Ignored = unknown
	if p.summary != "" && len(p.elements) > 0 && !p.count {
		return nil, badRequest("_summary=%s and _elements both choose the elements returned; give one of them", p.summary)
	}
	// The type modifier of references is normalised into the value, so a
	// clause's canonical key may sort differently from its key as given:
	// order by canonical key, so parsing Applied again gives the same
	// clauses in the same order.
	slices.SortStableFunc(clauses, func(a, b appliedClause) int { return strings.Compare(a.key, b.key) })
	for _, c := range clauses {
		p.s.Clauses = append(p.s.Clauses, c.clause)
		p.s.Applied[c.key] = append(p.s.Applied[c.key], c.value)
	}
	p.finish()
	return p.s, nil
}

// chainKey splits a chained parameter's key, given as its name and
// modifier: patient.identifier (name "patient.identifier") or
// patient:Patient.identifier (name "patient", modifier
// "Patient.identifier") give base "patient" and chain "identifier".
func chainKey(name, mod string) (base, chain string, ok bool) {
	if base, chain, ok = strings.Cut(name, "."); ok {
		return base, chain, true
	}
	if _, chain, ok = strings.Cut(mod, "."); ok {
		return name, chain, true
	}
	return "", "", false
}

// chainParam returns the parameter of bp's target that key chains bp by,
// refusing chains bp does not declare, a type modifier naming another
// target, and modifiers on the chained parameter.
func chainParam(bp SearchParam, key, name, mod, chainName string) (SearchParam, error) {
	if len(bp.Chains) == 0 || len(bp.Targets) != 1 {
		return SearchParam{}, unsupported("%s: chained search is not supported on %s; search %s first, then use its ids in %s", key, bp.Name, exampleTarget(bp), bp.Name)
	}
	chain, ok := bp.Chain(chainName)
	if !ok {
		return SearchParam{}, unsupported("%s: %s can be chained by %s only", key, bp.Name, chainList(bp))
	}
	if strings.Contains(name, ".") {
		// patient.identifier[:modifier]: the modifier is the chained
		// parameter's.
		if mod != "" {
			return SearchParam{}, unsupported("%s: modifiers are not supported on chained parameters; use %s.%s", key, bp.Name, chain.Name)
		}
		return chain, nil
	}
	typ, _, _ := strings.Cut(mod, ".")
	if typ != bp.Targets[0] {
		return SearchParam{}, badRequest("%s: %s refers to %s, not %s", key, bp.Name, bp.Targets[0], typ)
	}
	return chain, nil
}

// chainList lists bp's chained parameters: "patient.identifier".
func chainList(bp SearchParam) string {
	names := make([]string, len(bp.Chains))
	for i, c := range bp.Chains {
		names[i] = bp.Name + "." + c.Name
	}
	return strings.Join(names, ", ")
}

type appliedClause struct {
	clause     Clause
	key, value string
}

// parser holds what the result parameters set until finish applies it.
type parser struct {
	decl     *ResourceDecl
	s        *Search
	most     int      // the maximum _count
	sort     []string // canonical _sort items as given
	count    bool     // _summary=count or _count=0
	summary  string   // _summary=true or data
	elements []string
	includes []Include
	revs     []Include
}

// countBounds are decl's default and maximum page sizes, falling back
// when unset so a forgetful declaration still pages.
func countBounds(decl *ResourceDecl) (def, most int) {
	def, most = decl.DefaultCount, decl.MaxCount
	if most <= 0 {
		most = fallbackMaxCount
	}
	if def <= 0 {
		def = fallbackDefaultCount
	}
	return min(def, most), most
}

// result interprets one result parameter.
func (p *parser) result(name string, vals []string) error {
	if len(vals) > 1 && name != "_include" && name != "_revinclude" && name != "_elements" {
		return badRequest("%s is given %d times; give it once", name, len(vals))
	}
	for _, v := range vals {
		if strings.TrimSpace(v) == "" {
			return badRequest("%s: empty value; give a value or leave the parameter out", name)
		}
	}
	v := vals[0]
	switch name {
	case "_count":
		return p.parseCount(v)
	case "_summary":
		switch v {
		case SummaryCount:
			p.count = true
		case "false":
		case SummaryTrue, SummaryData:
			p.summary = v
		case "text":
			return unsupported("_summary=text is not supported: resources here carry no narrative, and the mandatory elements alone break their invariants; use _summary=true or _summary=data")
		default:
			return badRequest("_summary=%s: the value must be true, data, count or false (text is not supported)", v)
		}
	case "_total":
		switch v {
		case "accurate":
			p.s.Total = true
		case "none", "estimate":
		default:
			return badRequest("_total=%s: the value must be accurate, estimate or none", v)
		}
	case "_sort":
		return p.parseSort(v)
	case "_elements":
		for _, v := range vals {
			if err := p.parseElements(v); err != nil {
				return err
			}
		}
	case "_include":
		for _, v := range vals {
			if err := p.parseInclude(v); err != nil {
				return err
			}
		}
	case "_revinclude":
		for _, v := range vals {
			if err := p.parseRevInclude(v); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *parser) parseCount(v string) error {
	if strings.Trim(v, "0123456789") != "" {
		return badRequest("_count=%s: the value must be a whole number from 1 to %d (0 asks for the total only)", v, p.most)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > p.most {
		return Errorf(http.StatusBadRequest, IssueTooCostly, "_count=%s is above the maximum page size of %d for %s; ask for at most %d and follow the next links", v, p.most, p.decl.Type, p.most)
	}
	if n == 0 {
		p.count = true
		return nil
	}
	p.s.Count = n
	return nil
}

func (p *parser) parseSort(v string) error {
	seen := map[string]bool{}
	for item := range strings.SplitSeq(v, ",") {
		item = strings.TrimSpace(item)
		name, desc := strings.CutPrefix(item, "-")
		if name == "" {
			return badRequest("_sort=%s: empty sort key; list keys separated by commas, each optionally prefixed by - for descending", v)
		}
		if name != "_id" && !slices.Contains(p.decl.Sorts, name) {
			return badRequest("_sort: %s cannot sort by %q; it sorts by %s", p.decl.Type, name, strings.Join(append(slices.Clone(p.decl.Sorts), "_id"), ", "))
		}
		if seen[name] {
			return badRequest("_sort=%s: %s is listed twice", v, name)
		}
		seen[name] = true
		p.s.Sort = append(p.s.Sort, SortKey{Name: name, Desc: desc})
		p.sort = append(p.sort, item)
	}
	return nil
}

func (p *parser) parseElements(v string) error {
	for e := range strings.SplitSeq(v, ",") {
		e = strings.TrimSpace(e)
		if !elementRE.MatchString(e) {
			return badRequest("_elements: %q is not a top-level element name (like identifier or birthDate)", e)
		}
		if !slices.Contains(p.elements, e) {
			p.elements = append(p.elements, e)
		}
	}
	return nil
}

func (p *parser) parseInclude(v string) error {
	if v == "*" || strings.HasSuffix(v, ":*") {
		return unsupported("_include=%s: wildcard includes are not supported; %s", v, p.includeHelp())
	}
	parts := strings.Split(v, ":")
	for _, inc := range p.decl.Includes {
		if len(parts) < 2 || len(parts) > 3 || parts[0] != inc.Source || parts[1] != inc.Param {
			continue
		}
		if len(parts) == 3 && parts[2] != inc.Target {
			continue
		}
		if !slices.Contains(p.includes, inc) {
			p.includes = append(p.includes, inc)
		}
		return nil
	}
	return badRequest("_include=%s is not supported; %s", v, p.includeHelp())
}

func (p *parser) parseRevInclude(v string) error {
	if v == "*" || strings.HasSuffix(v, ":*") {
		return unsupported("_revinclude=%s: wildcard includes are not supported; %s", v, p.revIncludeHelp())
	}
	parts := strings.Split(v, ":")
	for _, inc := range p.decl.RevIncludes {
		if len(parts) < 2 || len(parts) > 3 || parts[0] != inc.Source || parts[1] != inc.Param {
			continue
		}
		if len(parts) == 3 && parts[2] != inc.Target {
			continue
		}
		if !slices.Contains(p.revs, inc) {
			p.revs = append(p.revs, inc)
		}
		return nil
	}
	return badRequest("_revinclude=%s is not supported; %s", v, p.revIncludeHelp())
}

func (p *parser) revIncludeHelp() string {
	if len(p.decl.RevIncludes) == 0 {
		return p.decl.Type + " supports no _revinclude"
	}
	names := make([]string, len(p.decl.RevIncludes))
	for i, inc := range p.decl.RevIncludes {
		names[i] = inc.String()
	}
	return p.decl.Type + " supports _revinclude=" + strings.Join(names, ", ")
}

func (p *parser) includeHelp() string {
	if len(p.decl.Includes) == 0 {
		return p.decl.Type + " supports no _include"
	}
	names := make([]string, len(p.decl.Includes))
	for i, inc := range p.decl.Includes {
		names[i] = inc.String()
	}
	return p.decl.Type + " supports _include=" + strings.Join(names, ", ")
}

// supported lists the parameter names decl accepts, for error messages.
func (p *parser) supported() []string {
	var names []string
	for _, sp := range p.decl.Params {
		names = append(names, sp.Name)
		for _, c := range sp.Chains {
			names = append(names, sp.Name+"."+c.Name)
		}
	}
	return append(names, resultParams...)
}

// finish applies the result parameters to the search and to Applied.
func (p *parser) finish() {
	s := p.s
	if !slices.ContainsFunc(s.Sort, func(k SortKey) bool { return k.Name == "_id" }) {
		s.Sort = append(s.Sort, SortKey{Name: "_id"})
	}
	if p.count {
		s.Summary, s.Count, s.Total = "count", 0, true
		s.Applied.Set("_summary", "count")
		return
	}
	s.Applied.Set("_count", strconv.Itoa(s.Count))
	if len(p.sort) > 0 {
		s.Applied.Set("_sort", strings.Join(p.sort, ","))
	}
	if s.Total {
		s.Applied.Set("_total", "accurate")
	}
	if p.summary != "" {
		s.Summary = p.summary
		s.Applied.Set("_summary", p.summary)
	}
	if len(p.elements) > 0 {
		s.Elements = p.elements
		s.Applied.Set("_elements", strings.Join(p.elements, ","))
	}
	for _, inc := range p.includes {
		s.Include = append(s.Include, inc)
		s.Applied.Add("_include", inc.String())
	}
	for _, inc := range p.revs {
		s.RevInclude = append(s.RevInclude, inc)
		s.Applied.Add("_revinclude", inc.String())
	}
}
