package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// PushSettings sends settings to a site's agent, which applies them without
// restarting, and returns the settings then in force. It fails with
// [server.EUNAVAILABLE] when the site has no session. Settings pushed are
// not remembered: an agent that restarts runs with its configuration again.
func (h *Hub) PushSettings(ctx context.Context, siteID string, set wire.Settings) (wire.Settings, error) {
	var now wire.Settings
	err := h.control(ctx, siteID, wire.PathSettings, set, &now)
	return now, err
}

// SetWriteGrant relays a practice's write grant change to its agent (see
// [wire.PathGrants]) and returns the agent's grants then. It fails with
// [server.EUNAVAILABLE] when the site has no session or the session broke,
// and with the agent's [*wire.Error] when it refuses ([wire.KindForbidden]:
// it does not take grants from the console). The site's last report
// (Status) lists the new grants at once.
func (h *Hub) SetWriteGrant(ctx context.Context, siteID string, ch wire.WriteGrantChange) (wire.WriteGrantState, error) {
	var st wire.WriteGrantState
	if err := h.control(ctx, siteID, wire.PathGrants, ch, &st); err != nil {
		return st, err
	}
	h.mu.Lock()
	if s := h.sites[siteID]; s != nil {
		s.info.WriteGrants, s.info.AllowWrites, s.info.ConsoleGrants = st.WriteGrants, st.AllowWrites, st.ConsoleGrants
	}
	h.mu.Unlock()
	return st, nil
}

// control POSTs in as JSON to one of the agent's control endpoints and
// decodes its answer into out.
func (h *Hub) control(ctx context.Context, siteID, path string, in, out any) error {
	s := h.session(siteID)
	if s == nil {
		return errUnavailable(siteID)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return server.Errorf(server.EUNAVAILABLE, "lost the connection to the agent of site %s", siteID)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var werr wire.Error
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&werr) == nil && werr.Kind != "" {
			return &werr
		}
		return fmt.Errorf("agent answered %s to POST %s", resp.Status, path)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}
