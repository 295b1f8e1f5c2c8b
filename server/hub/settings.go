package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"fhirlink/agent/wire"
)

// PushSettings sends settings to a site's agent, which applies them without
// restarting, and returns the settings then in force. It fails with
// [server.EUNAVAILABLE] when the site has no session. Settings pushed are
// not remembered: an agent that restarts runs with its configuration again.
func (h *Hub) PushSettings(ctx context.Context, siteID string, set wire.Settings) (wire.Settings, error) {
	s := h.session(siteID)
	if s == nil {
		return wire.Settings{}, errUnavailable(siteID)
	}
	body, err := json.Marshal(set)
	if err != nil {
		return wire.Settings{}, err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://agent"+wire.PathSettings, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return wire.Settings{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var werr wire.Error
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&werr) == nil && werr.Kind != "" {
			return wire.Settings{}, &werr
		}
		return wire.Settings{}, fmt.Errorf("agent answered %s to new settings", resp.Status)
	}
	var now wire.Settings
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&now)
	return now, err
}
