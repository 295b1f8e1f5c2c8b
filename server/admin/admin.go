// Package admin is the operator's side of the server: one method of
// [Service] per operation (sites, integrators, pairings, consent and
// incident controls, SMART clients, quotas, webhooks, the audit log, and
// pushing settings to a connected agent), with its validation. Its errors
// are [*server.Error].
//
// Two edges call it, so that both behave the same: the `fhirlink admin`
// commands on the state store directly, and the admin HTTP API (server/api,
// on its own listener, with an operator token from [Operators]). Both go
// through [Call], which decodes an operation's JSON request and encodes its
// JSON answer; [Client] is the same call over HTTP.
package admin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"github.com/google/uuid"

	"fhirlink/agent/wire"
	"fhirlink/server"
	"fhirlink/server/auth"
)

// Agents pushes settings to a site's agent and closes its session: a
// hub.Hub for the agents of this node, a cluster.Router for those of any
// node.
type Agents interface {
	PushSettings(ctx context.Context, siteID string, set wire.Settings) (wire.Settings, error)
	Disconnect(siteID string)
}

// Service runs the operations on Store. Agents is nil where no server runs
// (the CLI on the store): pushing settings then fails with
// [server.EUNAVAILABLE], and a rotated credential closes its agent's
// session at the serving nodes' next credential sweep (server/hub).
type Service struct {
	Store  server.Store
	Agents Agents
}

// maxCodeTTL is the longest an enrollment or pairing code may live.
const maxCodeTTL = 30 * 24 * time.Hour

func invalid(format string, args ...any) error {
	return server.Errorf(server.EINVALID, format, args...)
}

func required(name, v string) error {
	if v == "" {
		return invalid("%s is required", name)
	}
	return nil
}

// SiteCreate is a new site. ID is optional (default: a new random UUID).
type SiteCreate struct {
	Name      string `json:"name"`
	PMSType   string `json:"pmsType,omitempty"` // default BestPractice
	PMSSiteID string `json:"pmsSiteId,omitempty"`
	ID        string `json:"id,omitempty"`
}

// SiteSecret is a site and its agent secret, shown once.
type SiteSecret struct {
	Secret string `json:"secret"`
	SiteID string `json:"siteId"`
}

// CreateSite creates a site and its agent secret.
func (s *Service) CreateSite(ctx context.Context, r SiteCreate) (*SiteSecret, error) {
	if err := required("name", r.Name); err != nil {
		return nil, err
	}
	if r.PMSType == "" {
		r.PMSType = wire.PMSBestPractice
	}
	switch r.PMSType {
	case wire.PMSBestPractice, wire.PMSZedmed, wire.PMSD4w:
	default:
		return nil, invalid("pmsType %q: use BestPractice, Zedmed or D4w", r.PMSType)
	}
	site := &server.Site{ID: r.ID, Name: r.Name, PMSType: r.PMSType, PracticeManagementSiteID: r.PMSSiteID}
	if site.ID == "" {
		site.ID = uuid.NewString()
	} else if _, err := uuid.Parse(site.ID); err != nil {
		return nil, invalid("id %q is not a UUID", site.ID)
	}
	secret, hash := server.NewSecret()
	if err := s.Store.CreateSite(ctx, site, hash); err != nil {
		return nil, err
	}
	return &SiteSecret{SiteID: site.ID, Secret: secret}, nil
}

// None is the request of an operation without parameters.
type None struct{}

// Sites lists the sites.
func (s *Service) Sites(ctx context.Context, _ None) ([]*server.Site, error) {
	list, err := s.Store.Sites(ctx)
	if list == nil {
		list = []*server.Site{}
	}
	return list, err
}

// SiteRef names a site.
type SiteRef struct {
	SiteID string `json:"siteId"`
}

// RotateSiteSecret replaces a site's agent secret at once; the old one
// stops working. A connected agent is disconnected at once through Agents
// (on every node, for a cluster router), else within a keepalive by the
// serving nodes' credential sweep.
func (s *Service) RotateSiteSecret(ctx context.Context, r SiteRef) (*SiteSecret, error) {
	if err := required("siteId", r.SiteID); err != nil {
		return nil, err
	}
	secret, hash := server.NewSecret()
	if err := s.Store.SetSiteSecretHash(ctx, r.SiteID, hash); err != nil {
		return nil, err
	}
	if s.Agents != nil {
		s.Agents.Disconnect(r.SiteID)
	}
	return &SiteSecret{SiteID: r.SiteID, Secret: secret}, nil
}

// CodeRequest asks for a one-time code for a site, valid for TTL (a Go
// duration, e.g. "24h"; empty for the operation's default).
type CodeRequest struct {
	SiteID string `json:"siteId"`
	TTL    string `json:"ttl,omitempty"`
}

func (r CodeRequest) expiry(def time.Duration) (time.Time, error) {
	if err := required("siteId", r.SiteID); err != nil {
		return time.Time{}, err
	}
	ttl := def
	if r.TTL != "" {
		var err error
		if ttl, err = time.ParseDuration(r.TTL); err != nil {
			return time.Time{}, invalid("ttl %q: give a duration such as 24h", r.TTL)
		}
	}
	if ttl < time.Minute || ttl > maxCodeTTL {
		return time.Time{}, invalid("ttl %s: use a duration between 1m and 720h", ttl)
	}
	return time.Now().Add(ttl).UTC().Truncate(time.Second), nil
}

// EnrollmentCode is a one-time code exchanging for a new agent credential,
// shown once.
type EnrollmentCode struct {
	Code    string `json:"code"`
	Expires string `json:"expires"` // RFC 3339
	SiteID  string `json:"siteId"`
}

// EnrollmentCode issues a one-time enrollment code for a site (default TTL
// 24h); only its hash is stored.
func (s *Service) EnrollmentCode(ctx context.Context, r CodeRequest) (*EnrollmentCode, error) {
	expires, err := r.expiry(24 * time.Hour)
	if err != nil {
		return nil, err
	}
	code, hash := server.NewEnrollmentCode()
	if err := s.Store.CreateEnrollmentCode(ctx, r.SiteID, hash, expires); err != nil {
		return nil, err
	}
	return &EnrollmentCode{SiteID: r.SiteID, Code: code, Expires: expires.Format(time.RFC3339)}, nil
}

// IntegratorCreate is a new integrator.
type IntegratorCreate struct {
	Name string `json:"name"`
}

// IntegratorKeys is an integrator and the keys just made, shown once.
type IntegratorKeys struct {
	IntegratorID string `json:"integratorId"`
	PrimaryKey   string `json:"primaryKey,omitempty"`
	SecondaryKey string `json:"secondaryKey,omitempty"`
}

// CreateIntegrator creates an integrator with its two keys.
func (s *Service) CreateIntegrator(ctx context.Context, r IntegratorCreate) (*IntegratorKeys, error) {
	if err := required("name", r.Name); err != nil {
		return nil, err
	}
	in := &server.Integrator{ID: uuid.NewString(), Name: r.Name}
	if err := s.Store.CreateIntegrator(ctx, in); err != nil {
		return nil, err
	}
	out := &IntegratorKeys{IntegratorID: in.ID}
	for slot, key := range map[int]*string{server.KeyPrimary: &out.PrimaryKey, server.KeySecondary: &out.SecondaryKey} {
		secret, hash := server.NewSecret()
		if err := s.Store.SetIntegratorKey(ctx, in.ID, slot, hash); err != nil {
			return nil, err
		}
		*key = secret
	}
	return out, nil
}

// Integrators lists the integrators.
func (s *Service) Integrators(ctx context.Context, _ None) ([]*server.Integrator, error) {
	list, err := s.Store.Integrators(ctx)
	if list == nil {
		list = []*server.Integrator{}
	}
	return list, err
}

// KeyRotation names one of an integrator's key slots: primary or secondary.
type KeyRotation struct {
	IntegratorID string `json:"integratorId"`
	Slot         string `json:"slot,omitempty"` // default primary
}

// RotateIntegratorKey replaces one of an integrator's keys; the other keeps
// working.
func (s *Service) RotateIntegratorKey(ctx context.Context, r KeyRotation) (*IntegratorKeys, error) {
	if err := required("integratorId", r.IntegratorID); err != nil {
		return nil, err
	}
	out := &IntegratorKeys{IntegratorID: r.IntegratorID}
	slots := map[string]struct {
		slot int
		key  *string
	}{"": {server.KeyPrimary, &out.PrimaryKey}, "primary": {server.KeyPrimary, &out.PrimaryKey}, "secondary": {server.KeySecondary, &out.SecondaryKey}}
	sl, ok := slots[r.Slot]
	if !ok {
		return nil, invalid("slot %q: use primary or secondary", r.Slot)
	}
	secret, hash := server.NewSecret()
	if err := s.Store.SetIntegratorKey(ctx, r.IntegratorID, sl.slot, hash); err != nil {
		return nil, err
	}
	*sl.key = secret
	return out, nil
}

// PairRef names an integrator and a site; for blocks, an empty SiteID is
// every site.
type PairRef struct {
	IntegratorID string `json:"integratorId"`
	SiteID       string `json:"siteId,omitempty"`
}

func (r PairRef) check(siteRequired bool) error {
	if err := required("integratorId", r.IntegratorID); err != nil {
		return err
	}
	if siteRequired {
		return required("siteId", r.SiteID)
	}
	return nil
}

// Paired reports a pairing made or removed.
type Paired struct {
	Paired   string `json:"paired,omitempty"`
	Unpaired string `json:"unpaired,omitempty"`
}

// Pair lets an integrator reach a site.
func (s *Service) Pair(ctx context.Context, r PairRef) (*Paired, error) {
	if err := r.check(true); err != nil {
		return nil, err
	}
	return &Paired{Paired: r.SiteID}, s.Store.Pair(ctx, r.IntegratorID, r.SiteID)
}

// Unpair stops an integrator from reaching a site.
func (s *Service) Unpair(ctx context.Context, r PairRef) (*Paired, error) {
	if err := r.check(true); err != nil {
		return nil, err
	}
	return &Paired{Unpaired: r.SiteID}, s.Store.Unpair(ctx, r.IntegratorID, r.SiteID)
}

// PairingCode is a one-time code a practice gives an integrator, shown once.
type PairingCode struct {
	Expires     string `json:"expires"` // RFC 3339
	PairingCode string `json:"pairingCode"`
	SiteID      string `json:"siteId"`
}

// PairingCode issues a one-time pairing code for a site (default TTL 72h);
// only its hash is stored.
func (s *Service) PairingCode(ctx context.Context, r CodeRequest) (*PairingCode, error) {
	expires, err := r.expiry(72 * time.Hour)
	if err != nil {
		return nil, err
	}
	code, hash := server.NewPairingCode()
	if err := s.Store.CreatePairingCode(ctx, r.SiteID, hash, expires); err != nil {
		return nil, err
	}
	return &PairingCode{SiteID: r.SiteID, PairingCode: code, Expires: expires.Format(time.RFC3339)}, nil
}

// Pairings lists the integrators paired with a site.
func (s *Service) Pairings(ctx context.Context, r SiteRef) ([]*server.Pairing, error) {
	if err := required("siteId", r.SiteID); err != nil {
		return nil, err
	}
	if _, err := s.Store.Site(ctx, r.SiteID); err != nil {
		return nil, err
	}
	list, err := s.Store.Pairings(ctx, r.SiteID)
	if list == nil {
		list = []*server.Pairing{}
	}
	return list, err
}

// BlockState reports a block set or lifted; Site is "every site" for a
// block from every site.
type BlockState struct {
	Blocked      bool   `json:"blocked"`
	IntegratorID string `json:"integratorId"`
	Site         string `json:"site"`
}

func blockState(r PairRef, blocked bool) *BlockState {
	where := r.SiteID
	if where == "" {
		where = "every site"
	}
	return &BlockState{IntegratorID: r.IntegratorID, Site: where, Blocked: blocked}
}

// Block blocks an integrator from one site, or every site, whatever its
// pairings say; its requests in flight are cancelled within a second.
func (s *Service) Block(ctx context.Context, r PairRef) (*BlockState, error) {
	if err := r.check(false); err != nil {
		return nil, err
	}
	return blockState(r, true), s.Store.Block(ctx, r.IntegratorID, r.SiteID)
}

// Unblock lifts the block set with the same integrator and site.
func (s *Service) Unblock(ctx context.Context, r PairRef) (*BlockState, error) {
	if err := r.check(false); err != nil {
		return nil, err
	}
	return blockState(r, false), s.Store.Unblock(ctx, r.IntegratorID, r.SiteID)
}

// Blocks are the blocks in force and the quarantined sites.
type Blocks struct {
	Blocks           []*server.Block `json:"blocks"`
	QuarantinedSites []string        `json:"quarantinedSites"`
}

// Blocks lists the blocks in force and the quarantined sites.
func (s *Service) Blocks(ctx context.Context, _ None) (*Blocks, error) {
	blocks, err := s.Store.Blocks(ctx)
	if err != nil {
		return nil, err
	}
	quarantined, err := s.Store.Quarantined(ctx)
	out := &Blocks{Blocks: blocks, QuarantinedSites: quarantined}
	if out.Blocks == nil {
		out.Blocks = []*server.Block{}
	}
	if out.QuarantinedSites == nil {
		out.QuarantinedSites = []string{}
	}
	return out, err
}

// Quarantine reports a site's quarantine.
type Quarantine struct {
	Quarantined bool   `json:"quarantined"`
	SiteID      string `json:"siteId"`
}

// Quarantine refuses every integrator at a site, cancelling its requests
// in flight within a second; the agent stays connected.
func (s *Service) Quarantine(ctx context.Context, r SiteRef) (*Quarantine, error) {
	return s.quarantine(ctx, r, true)
}

// Unquarantine lifts a site's quarantine.
func (s *Service) Unquarantine(ctx context.Context, r SiteRef) (*Quarantine, error) {
	return s.quarantine(ctx, r, false)
}

func (s *Service) quarantine(ctx context.Context, r SiteRef, on bool) (*Quarantine, error) {
	if err := required("siteId", r.SiteID); err != nil {
		return nil, err
	}
	return &Quarantine{SiteID: r.SiteID, Quarantined: on}, s.Store.SetQuarantined(ctx, r.SiteID, on)
}

// ClientCreate is a new SMART Backend Services client: its keys published
// at JWKSURL (https) or given inline as JWKS (public keys), not both.
type ClientCreate struct {
	IntegratorID string          `json:"integratorId"`
	JWKSURL      string          `json:"jwksUrl,omitempty"`
	JWKS         json.RawMessage `json:"jwks,omitempty"`
	Scope        string          `json:"scope"`
	Name         string          `json:"name,omitempty"`
}

// ClientCreated is a registered client.
type ClientCreated struct {
	ClientID     string `json:"clientId"`
	IntegratorID string `json:"integratorId"`
	JWKSURL      string `json:"jwksUrl,omitempty"`
	Scope        string `json:"scope"`
}

// CreateClient registers a SMART client of an integrator.
func (s *Service) CreateClient(ctx context.Context, r ClientCreate) (*ClientCreated, error) {
	if err := required("integratorId", r.IntegratorID); err != nil {
		return nil, err
	}
	cl := &server.Client{ID: uuid.NewString(), IntegratorID: r.IntegratorID, Name: r.Name, JWKSURL: r.JWKSURL, JWKS: r.JWKS, Scope: r.Scope}
	if err := auth.ValidateClient(cl); err != nil {
		return nil, err
	}
	if err := s.Store.CreateClient(ctx, cl); err != nil {
		return nil, err
	}
	return &ClientCreated{ClientID: cl.ID, IntegratorID: cl.IntegratorID, JWKSURL: cl.JWKSURL, Scope: cl.Scope}, nil
}

// IntegratorRef names an integrator.
type IntegratorRef struct {
	IntegratorID string `json:"integratorId"`
}

// ClientInfo is a registered client as listed.
type ClientInfo struct {
	ClientID string `json:"clientId"`
	Name     string `json:"name,omitempty"`
	JWKSURL  string `json:"jwksUrl,omitempty"`
	Inline   bool   `json:"inlineJwks"`
	Scope    string `json:"scope"`
}

// Clients lists an integrator's SMART clients.
func (s *Service) Clients(ctx context.Context, r IntegratorRef) ([]ClientInfo, error) {
	if err := required("integratorId", r.IntegratorID); err != nil {
		return nil, err
	}
	list, err := s.Store.Clients(ctx, r.IntegratorID)
	if err != nil {
		return nil, err
	}
	out := []ClientInfo{}
	for _, cl := range list {
		out = append(out, ClientInfo{ClientID: cl.ID, Name: cl.Name, JWKSURL: cl.JWKSURL, Inline: len(cl.JWKS) > 0, Scope: cl.Scope})
	}
	return out, nil
}

// ClientRef names a SMART client.
type ClientRef struct {
	ClientID string `json:"clientId"`
}

// Deleted reports what was deleted.
type Deleted struct {
	Deleted string `json:"deleted"`
}

// DeleteClient deletes a SMART client; the tokens it holds stop working.
func (s *Service) DeleteClient(ctx context.Context, r ClientRef) (*Deleted, error) {
	if err := required("clientId", r.ClientID); err != nil {
		return nil, err
	}
	return &Deleted{Deleted: r.ClientID}, s.Store.DeleteClient(ctx, r.ClientID)
}

// SigningKeys reports a signing key rotation: the key now signing and the
// ones deleted.
type SigningKeys struct {
	Current string   `json:"current"`
	Removed []string `json:"removed"`
}

// RotateSigningKey adds a token signing key, keeping the previous one.
func (s *Service) RotateSigningKey(ctx context.Context, _ None) (*SigningKeys, error) {
	added, removed, err := auth.RotateSigningKey(ctx, s.Store)
	if err != nil {
		return nil, err
	}
	if removed == nil {
		removed = []string{}
	}
	return &SigningKeys{Current: added, Removed: removed}, nil
}

// AuditQuery selects audit records. From and To are RFC 3339 times or days
// (YYYY-MM-DD, UTC); From is inclusive, To exclusive. Limit defaults to
// 1000.
type AuditQuery struct {
	SiteID       string `json:"siteId,omitempty"`
	IntegratorID string `json:"integratorId,omitempty"`
	From         string `json:"from,omitempty"`
	To           string `json:"to,omitempty"`
	Limit        int    `json:"limit,omitempty"`
}

// Audit returns audit records, oldest first.
func (s *Service) Audit(ctx context.Context, r AuditQuery) ([]*server.AuditRecord, error) {
	f := server.AuditFilter{SiteID: r.SiteID, IntegratorID: r.IntegratorID, Limit: r.Limit}
	var err error
	if f.From, err = server.ParseAuditTime(r.From, "from"); err != nil {
		return nil, err
	}
	if f.To, err = server.ParseAuditTime(r.To, "to"); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = 1000
	}
	if f.Limit < 1 || f.Limit > server.MaxAuditLimit {
		return nil, invalid("limit %d: use 1 to %d", f.Limit, server.MaxAuditLimit)
	}
	recs, err := s.Store.Audit(ctx, f)
	if recs == nil {
		recs = []*server.AuditRecord{}
	}
	return recs, err
}

// QuotaRequest sets an integrator's daily quotas at one site, or every site
// without SiteID, when DailyQueries or DailyBytes is given: -1 follows the
// server's default, 0 is unlimited. Without either it only reads them.
type QuotaRequest struct {
	IntegratorID string `json:"integratorId"`
	SiteID       string `json:"siteId,omitempty"`
	DailyQueries *int64 `json:"dailyQueries,omitempty"`
	DailyBytes   *int64 `json:"dailyBytes,omitempty"`
}

// Quotas are an integrator's quota settings.
type Quotas struct {
	IntegratorID string          `json:"integratorId"`
	Quotas       []*server.Quota `json:"quotas"`
}

// Quota sets (when a limit is given) and returns an integrator's quotas.
func (s *Service) Quota(ctx context.Context, r QuotaRequest) (*Quotas, error) {
	if err := required("integratorId", r.IntegratorID); err != nil {
		return nil, err
	}
	if r.DailyQueries != nil || r.DailyBytes != nil {
		q := &server.Quota{IntegratorID: r.IntegratorID, SiteID: r.SiteID, DailyQueries: -1, DailyBytes: -1}
		if r.DailyQueries != nil {
			q.DailyQueries = *r.DailyQueries
		}
		if r.DailyBytes != nil {
			q.DailyBytes = *r.DailyBytes
		}
		if q.DailyQueries < -1 || q.DailyBytes < -1 {
			return nil, invalid("limits are -1 (the server's default), 0 (unlimited) or a positive number")
		}
		if err := s.Store.SetQuota(ctx, q); err != nil {
			return nil, err
		}
	}
	qs, err := s.Store.Quotas(ctx, r.IntegratorID)
	if err != nil {
		return nil, err
	}
	if qs == nil {
		qs = []*server.Quota{}
	}
	return &Quotas{IntegratorID: r.IntegratorID, Quotas: qs}, nil
}

// WebhookRequest sets an integrator's webhook URL, or deletes its webhook.
type WebhookRequest struct {
	IntegratorID string `json:"integratorId"`
	URL          string `json:"url,omitempty"`
	Delete       bool   `json:"delete,omitempty"`
}

// WebhookState is a webhook set, with its signing secret (shown once), or
// deleted (Webhook "deleted").
type WebhookState struct {
	IntegratorID string `json:"integratorId"`
	Secret       string `json:"secret,omitempty"`
	URL          string `json:"url,omitempty"`
	Webhook      string `json:"webhook,omitempty"`
}

// Webhook sets an integrator's webhook with a new signing secret, or
// deletes it.
func (s *Service) Webhook(ctx context.Context, r WebhookRequest) (*WebhookState, error) {
	if err := required("integratorId", r.IntegratorID); err != nil {
		return nil, err
	}
	if r.Delete {
		if err := s.Store.DeleteWebhook(ctx, r.IntegratorID); err != nil {
			return nil, err
		}
		return &WebhookState{IntegratorID: r.IntegratorID, Webhook: "deleted"}, nil
	}
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, invalid("url %q: give an absolute https (or http) URL", r.URL)
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	if err := s.Store.SetWebhook(ctx, &server.Webhook{IntegratorID: r.IntegratorID, URL: u.String(), Secret: []byte(secret)}); err != nil {
		return nil, err
	}
	return &WebhookState{IntegratorID: r.IntegratorID, URL: u.String(), Secret: secret}, nil
}

// SettingsPush is settings for a site's agent; zero fields keep the
// agent's current value.
type SettingsPush struct {
	SiteID string `json:"siteId"`
	wire.Settings
}

// PushSettings sends settings to a site's connected agent, which applies
// them at once without restarting (until it restarts), and returns the
// settings then in force.
func (s *Service) PushSettings(ctx context.Context, r SettingsPush) (*wire.Settings, error) {
	if err := required("siteId", r.SiteID); err != nil {
		return nil, err
	}
	if r.Settings == (wire.Settings{}) {
		return nil, invalid("give at least one setting: concurrency, maxTimeoutMs or maxTimeInQueueMs")
	}
	if s.Agents == nil {
		return nil, server.Errorf(server.EUNAVAILABLE, "pushing settings needs the running server: call its admin API (--server)")
	}
	if _, err := s.Store.Site(ctx, r.SiteID); err != nil {
		return nil, err
	}
	now, err := s.Agents.PushSettings(ctx, r.SiteID, r.Settings)
	if e, ok := errors.AsType[*wire.Error](err); ok {
		return nil, invalid("the agent refused the settings: %s", e.Message)
	} else if err != nil {
		return nil, err
	}
	return &now, nil
}
