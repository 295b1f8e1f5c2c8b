package api

import (
	"cmp"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"fhirlink/agent/wire"
	"fhirlink/server"
)

// siteStatus is the passthrough API's site object.
type siteStatus struct {
	ID           string `json:"id"`
	PMSType      string `json:"pmsType"`
	Availability string `json:"availability"`
	Status       string `json:"status"`
	// HaloLinkVersion keeps the field name integrators' clients already read;
	// AgentVersion says the same in our words.
	HaloLinkVersion  string           `json:"haloLinkVersion"`
	AgentVersion     string           `json:"agentVersion"`
	Catalogue        []wire.Catalogue `json:"catalogue"`
	PracticeMetadata practiceMetadata `json:"practiceMetadata"`
	// Additions.
	Engine        string     `json:"engine,omitempty"`
	EngineVersion string     `json:"engineVersion,omitempty"`
	AllowWrites   bool       `json:"allowWrites"`
	LastSeenAt    *time.Time `json:"lastSeenAt,omitempty"`
	ConnectedAt   *time.Time `json:"connectedAt,omitempty"`
}

type practiceMetadata struct {
	PMSType                   string `json:"pmsType"`
	PracticeName              string `json:"practiceName"`
	PracticeManagementSiteID  string `json:"practiceManagementSiteId"`
	PracticeManagementVersion string `json:"practiceManagementVersion"`
}

func (s *Server) statusOf(site *server.Site) siteStatus {
	st := s.Hub.Status(site.ID)
	out := siteStatus{
		ID:              site.ID,
		PMSType:         site.PMSType,
		Availability:    st.Availability,
		Status:          "active",
		HaloLinkVersion: st.Info.Version,
		AgentVersion:    st.Info.Version,
		Catalogue:       st.Info.Catalogues,
		PracticeMetadata: practiceMetadata{
			PMSType:                   site.PMSType,
			PracticeName:              cmp.Or(st.Info.PracticeName, site.Name),
			PracticeManagementSiteID:  cmp.Or(st.Info.PracticeManagementSiteID, site.PracticeManagementSiteID),
			PracticeManagementVersion: st.Info.PracticeManagementVersion,
		},
		Engine:        st.Info.Engine,
		EngineVersion: st.Info.EngineVersion,
		AllowWrites:   st.Info.AllowWrites,
	}
	if out.Catalogue == nil {
		out.Catalogue = []wire.Catalogue{}
	}
	if !st.LastSeen.IsZero() {
		out.LastSeenAt, out.ConnectedAt = &st.LastSeen, &st.ConnectedAt
	}
	if st.Info.Version == "" {
		out.Status = "initialising" // no agent has connected yet
	}
	return out
}

// GET /integrator/sites/{siteId}
func (s *Server) siteStatus(c echo.Context) error {
	return c.JSON(http.StatusOK, s.statusOf(site(c)))
}

// GET /integrator/sites?practiceManagementSiteId=&practiceManagementName=
// lists the sites paired with the caller, optionally only those with the
// given PMS identifiers.
func (s *Server) listSites(c echo.Context) error {
	ctx := c.Request().Context()
	pmsID := c.QueryParam("practiceManagementSiteId")
	pmsType, err := server.PMSTypeNamed(c.QueryParam("practiceManagementName"))
	if err != nil {
		return err
	}
	sites, err := s.Store.Sites(ctx)
	if err != nil {
		return err
	}
	in := integrator(c)
	out := []siteStatus{}
	for _, site := range sites {
		if (pmsID != "" && site.PracticeManagementSiteID != pmsID) || (pmsType != "" && site.PMSType != pmsType) {
			continue
		}
		if ok, err := s.Store.Paired(ctx, in.ID, site.ID); err != nil {
			return err
		} else if ok {
			out = append(out, s.statusOf(site))
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"sites": out})
}
